//! Scalar multiplications by the curve's fastest routes (Tessera fork).
//!
//! Upstream multiplies the generator like any other point (`generator * k`,
//! a full variable-base multiplication) and verifies proofs with two such
//! products and an inversion per equation. The results here are the same
//! points; only the route differs:
//!
//! - [`mul_g`]: `k*G` through the curve's fixed-base table (`k256`'s
//!   `precomputed-tables`, on by default). Constant time, so it serves secret
//!   scalars too.
//! - [`lincomb_vartime`], [`mul_g_add_vartime`]: `a*P + b*Q` as one
//!   interleaved variable-time multi-scalar multiplication. **Only for public
//!   inputs** (proof verification, signature verification): running time
//!   depends on the scalars and points.
//! - [`eq_affine`]: compares a projective result with an affine point without
//!   normalising it (no field inversion); equality is the same relation.

use elliptic_curve::ops::{LinearCombination, MulByGeneratorVartime};
use elliptic_curve::CurveArithmetic;
use group::Group;

use crate::curve::DklsCurve;

type Projective<C> = <C as CurveArithmetic>::ProjectivePoint;
type Affine<C> = <C as CurveArithmetic>::AffinePoint;
type Scalar<C> = <C as CurveArithmetic>::Scalar;

/// `k*G` from the fixed-base table; constant time.
#[inline]
#[must_use]
pub fn mul_g<C: DklsCurve>(k: &Scalar<C>) -> Projective<C> {
    <Projective<C> as Group>::mul_by_generator(k)
}

/// `a*G + b*P` in variable time: public inputs only.
#[inline]
#[must_use]
pub fn mul_g_add_vartime<C: DklsCurve>(a: &Scalar<C>, b: &Scalar<C>, p: &Affine<C>) -> Projective<C> {
    <Projective<C> as MulByGeneratorVartime>::mul_by_generator_and_mul_add_vartime(
        a,
        b,
        &Projective::<C>::from(*p),
    )
}

/// `a*P + b*Q` in variable time: public inputs only.
#[inline]
#[must_use]
pub fn lincomb_vartime<C: DklsCurve>(
    p: &Affine<C>,
    a: &Scalar<C>,
    q: &Affine<C>,
    b: &Scalar<C>,
) -> Projective<C> {
    <Projective<C> as LinearCombination<[(Projective<C>, Scalar<C>); 2]>>::lincomb_vartime(&[
        (Projective::<C>::from(*p), *a),
        (Projective::<C>::from(*q), *b),
    ])
}

/// `p == q` for a projective `p` and an affine `q`, without normalising `p`.
#[inline]
#[must_use]
pub fn eq_affine<C: DklsCurve>(p: &Projective<C>, q: &Affine<C>) -> bool {
    *p == Projective::<C>::from(*q)
}

/// `true` if `p` is the generator (public inputs only).
#[inline]
#[must_use]
pub fn is_generator<C: DklsCurve>(p: &Affine<C>) -> bool {
    *p == <Affine<C> as group::CurveAffine>::generator()
}
