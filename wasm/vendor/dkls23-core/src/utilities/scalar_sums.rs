//! Sums of scalar products with one modular reduction (Tessera fork).
//!
//! The multiplication protocol's outputs and its verification vector are sums
//! of products of scalars (`sum_j gadget_j * z_j` over 416 terms, and
//! `chi~ * z~ + chi^ * z^` per entry). Upstream reduces every product modulo
//! the group order and then adds modulo the order again; here, on secp256k1,
//! the products are accumulated as plain integers and the sum is reduced once.
//! The result is the same element of the field (the same bytes): only the
//! moment of the reduction differs.
//!
//! Constant time: the operands are secret (OT outputs), so the code runs the
//! same instructions for every value: fixed loops over 32-bit limbs, 64-bit
//! products, no branch or index on the data; the reduction is `k256`'s
//! (`Reduce<U512>`, the one its own `Scalar::mul` uses) and the bits above 512
//! are folded in with a constant-time multiplication or selection.
//!
//! Other curves take upstream's route (a reduced product per term). Public
//! for `../differential` (tests/verify.rs compares it with `k256`'s products).

use core::any::{Any, TypeId};

use elliptic_curve::bigint::{U256, U512};
use elliptic_curve::ops::Reduce;
use ff::Field;
use subtle::{Choice, ConditionallySelectable};

use crate::curve::DklsCurve;

type Scalar<C> = <C as elliptic_curve::CurveArithmetic>::Scalar;

/// Whether `C` is secp256k1, the curve whose order the fast route reduces by.
#[inline(always)]
fn fast<C: DklsCurve>() -> bool {
    TypeId::of::<C>() == TypeId::of::<k256::Secp256k1>()
}

/// The scalar as `k256`'s type (the same type when `C` is secp256k1; a
/// downcast the compiler resolves per instantiation).
#[inline(always)]
fn as_k256<C: DklsCurve>(s: &Scalar<C>) -> &k256::Scalar {
    (s as &dyn Any).downcast_ref::<k256::Scalar>().expect("secp256k1 scalar")
}

/// `k256`'s scalar as the curve's type.
#[inline(always)]
fn from_k256<C: DklsCurve>(s: k256::Scalar) -> Scalar<C> {
    *(&s as &dyn Any).downcast_ref::<Scalar<C>>().expect("secp256k1 scalar")
}

/// A scalar with its value as eight little-endian 32-bit limbs (computed on
/// secp256k1 only), prepared once for use in many products.
#[derive(Clone, Copy)]
pub struct Operand<C: DklsCurve> {
    scalar: Scalar<C>,
    limbs: [u32; 8],
}

impl<C: DklsCurve> Operand<C> {
    #[inline]
    pub fn new(scalar: &Scalar<C>) -> Self {
        let mut limbs = [0u32; 8];
        if fast::<C>() {
            // The canonical value's words (32 or 64 bits, as crypto-bigint
            // was built), little-endian.
            let words = U256::from(as_k256::<C>(scalar)).to_words();
            let per = 8 / words.len();
            for (k, limb) in limbs.iter_mut().enumerate() {
                *limb = ((words[k / per] as u64) >> (32 * (k % per))) as u32;
            }
        }
        Operand { scalar: *scalar, limbs }
    }
}

/// `sum(a_i * b_i)` modulo the group order.
///
/// # Panics
///
/// With more than 2^20 terms (the column accumulators are sized for fewer).
#[inline]
pub fn dot<'a, C: DklsCurve>(
    terms: impl IntoIterator<Item = (&'a Operand<C>, &'a Operand<C>)>,
) -> Scalar<C> {
    if !fast::<C>() {
        let mut sum = <Scalar<C> as Field>::ZERO;
        for (a, b) in terms {
            sum += a.scalar * b.scalar;
        }
        return sum;
    }
    // Column sums of the 32-bit halves of the 64-bit limb products: each
    // column takes at most 16 halves (< 2^32) per term, so 2^20 terms stay
    // below 2^56.
    let mut cols = [0u64; 17];
    let mut count = 0usize;
    for (a, b) in terms {
        mac(&mut cols, &a.limbs, &b.limbs);
        count += 1;
    }
    assert!(count <= 1 << 20, "scalar_sums::dot: too many terms");
    from_k256::<C>(reduce(&cols, count))
}

#[inline(always)]
fn mac(cols: &mut [u64; 17], a: &[u32; 8], b: &[u32; 8]) {
    for i in 0..8 {
        let ai = u64::from(a[i]);
        for j in 0..8 {
            let p = ai * u64::from(b[j]);
            cols[i + j] += p & 0xffff_ffff;
            cols[i + j + 1] += p >> 32;
        }
    }
}

/// The column sums as one integer, reduced modulo secp256k1's order.
#[inline]
fn reduce(cols: &[u64; 17], count: usize) -> k256::Scalar {
    // Carry propagation: the 512 low bits as 32-bit limbs, the rest in `high`.
    let mut low = [0u32; 16];
    let mut carry = 0u64;
    for (limb, col) in low.iter_mut().zip(cols) {
        let v = col + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    let mut wide = U512::ZERO;
    let words = wide.as_mut_words();
    let per = 16 / words.len();
    for (k, word) in words.iter_mut().enumerate() {
        let mut v = 0u64;
        for p in 0..per {
            v |= u64::from(low[k * per + p]) << (32 * p);
        }
        *word = v as _;
    }
    // Every operand is below the order n, so the sum is below count * n^2 <
    // count * 2^512: `high` < count.
    let high = cols[16] + carry;
    let sum = <k256::Scalar as Reduce<U512>>::reduce(&wide);
    // 2^512 modulo n.
    let r512 = || <k256::Scalar as Reduce<U512>>::reduce(&U512::MAX) + k256::Scalar::ONE;
    if count <= 1 {
        // Below n^2 < 2^512: nothing above.
        sum
    } else if count == 2 {
        // Below 2 n^2 < 2^513: `high` is one bit.
        sum + k256::Scalar::conditional_select(
            &k256::Scalar::ZERO,
            &r512(),
            Choice::from((high & 1) as u8),
        )
    } else {
        sum + k256::Scalar::from(high) * r512()
    }
}
