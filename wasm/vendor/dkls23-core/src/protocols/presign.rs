//! Presignatures: a named variant of `DKLs23` signing (Tessera fork).
//!
//! Phases 1 to 3 of [signing](super::signing) do not depend on the message
//! except through the ids they bind: the message enters Protocol 3.6 of
//! `DKLs23` only in `w_i` (Step 9). Here they run ahead of time under
//! presignature ids (their own oracle tags, no message), and each party keeps
//! a [`Presignature`]: the total instance point `R`, its inversion mask
//! `phi_i` and its shares `u_i`, `v_i`. Signing is then one broadcast round:
//! [`Party::presign_sign`] gives `(u_i', w_i)` for the message and
//! [`Party::sign_phase4`] assembles and verifies the signature as usual.
//!
//! At signing time the presignature is re-randomized by a public offset
//! `delta = H(key, presignature, R, signing key, message)`:
//! `R' = R + delta*G`, `u_i' = u_i + delta*phi_i` (Groth and Shoup,
//! "On the security of ECDSA with additive key derivation and
//! presignatures", Eurocrypt 2022). A BIP-32 child key signs from a
//! presignature of its master key: `v_i' = v_i + t*phi_i` for the public
//! tweak `t`, bound into `delta`.
//!
//! A presignature must be used at most once: two signatures from one
//! presignature reveal the key. See PRESIGN.md for the security argument.

use std::collections::BTreeMap;

use elliptic_curve::point::AffineCoordinates;
use group::{Curve, CurveAffine};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::DklsCurve;
use crate::protocols::signing::{
    reduce_hash_bytes, reduce_hex_bytes, Broadcast3to4, KeepPhase1to2, KeepPhase2to3, SignData,
    TransmitPhase1to2, TransmitPhase2to3, UniqueKeep1to2, UniqueKeep2to3,
};
use crate::protocols::{Abort, AbortReason, Party, PartyIndex};
use crate::utilities::hashes::{point_to_bytes, tagged_hash_as_scalar, HashOutput};
use crate::utilities::oracle_tags::TAG_PRESIGN_RERANDOMIZE;

/// Data of a presigning session: all signers must use the same values.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PresignData {
    /// Identifies this presignature; fresh for every presigning session.
    pub presign_id: Vec<u8>,
    /// The other signers (without us).
    pub counterparties: Vec<PartyIndex>,
}

impl PresignData {
    fn as_sign_data(&self) -> SignData {
        // The message hash is a placeholder the presign variant never reads:
        // its ids leave it out (see `Party::mul_session_id`).
        SignData {
            sign_id: self.presign_id.clone(),
            counterparties: self.counterparties.clone(),
            message_hash: [0u8; crate::SECURITY as usize],
        }
    }
}

/// One party's share of a presignature. Secret; use once, then erase.
#[derive(Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "C::AffinePoint: serde::Serialize, C::Scalar: serde::Serialize",
        deserialize = "C::AffinePoint: serde::Deserialize<'de>, C::Scalar: serde::Deserialize<'de>"
    ))
)]
pub struct Presignature<C: DklsCurve> {
    pub presign_id: Vec<u8>,
    /// Every signer, sorted (us included).
    pub signers: Vec<u8>,
    /// `R`, the total instance point.
    #[zeroize(skip)]
    pub instance_point: C::AffinePoint,
    /// `phi_i`.
    pub inversion_mask: C::Scalar,
    pub u: C::Scalar,
    pub v: C::Scalar,
}

impl<C: DklsCurve> core::fmt::Debug for Presignature<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Presignature").finish_non_exhaustive()
    }
}

impl<C: DklsCurve> Party<C> {
    /// Presigning phase 1: [`Party::sign_phase1`] under presignature ids.
    ///
    /// # Errors
    ///
    /// As [`Party::sign_phase1`].
    #[allow(clippy::type_complexity)]
    pub fn presign_phase1(
        &self,
        data: &PresignData,
    ) -> Result<
        (
            UniqueKeep1to2<C>,
            BTreeMap<PartyIndex, KeepPhase1to2<C>>,
            Vec<TransmitPhase1to2>,
        ),
        Abort,
    > {
        self.sign_phase1_impl(&data.as_sign_data(), true)
    }

    /// Presigning phase 2: [`Party::sign_phase2`] under presignature ids.
    ///
    /// # Errors
    ///
    /// As [`Party::sign_phase2`].
    #[allow(clippy::type_complexity)]
    pub fn presign_phase2(
        &self,
        data: &PresignData,
        unique_kept: UniqueKeep1to2<C>,
        kept: BTreeMap<PartyIndex, KeepPhase1to2<C>>,
        received: &[TransmitPhase1to2],
    ) -> Result<
        (
            UniqueKeep2to3<C>,
            BTreeMap<PartyIndex, KeepPhase2to3<C>>,
            Vec<TransmitPhase2to3<C>>,
        ),
        Abort,
    > {
        self.sign_phase2_impl(&data.as_sign_data(), unique_kept, kept, received, true)
    }

    /// Presigning phase 3: every check of [`Party::sign_phase3`], ending with
    /// this party's presignature instead of a broadcast.
    ///
    /// # Errors
    ///
    /// As [`Party::sign_phase3`] (including the bans on failed checks).
    pub fn presign_phase3(
        &self,
        data: &PresignData,
        unique_kept: UniqueKeep2to3<C>,
        kept: BTreeMap<PartyIndex, KeepPhase2to3<C>>,
        received: &[TransmitPhase2to3<C>],
    ) -> Result<Presignature<C>, Abort> {
        let sign_data = data.as_sign_data();
        let (_, instance_point, u, v, inversion_mask) =
            self.sign_phase3_impl(&sign_data, unique_kept, kept, received, true)?;
        let mut signers: Vec<u8> = data
            .counterparties
            .iter()
            .map(PartyIndex::as_u8)
            .chain([self.party_index.as_u8()])
            .collect();
        signers.sort_unstable();
        Ok(Presignature {
            presign_id: data.presign_id.clone(),
            signers,
            instance_point,
            inversion_mask,
            u,
            v,
        })
    }

    /// Online signing from a presignature of this key (`self` is the party
    /// that presigned): this party's broadcast `(u_i', w_i)` for
    /// `message_hash`, and the x-coordinate of the re-randomized `R'`.
    /// `tweak` is the BIP-32 offset of the signing key from this key
    /// (zero for the key itself). Assemble with [`Party::sign_phase4`] of the
    /// signing key (a [`SignData`] whose `message_hash` is the message).
    ///
    /// The presignature is consumed: it must already be erased from storage
    /// before the broadcast leaves this party.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the re-randomized instance point is trivial.
    pub fn presign_sign(
        &self,
        presignature: Presignature<C>,
        message_hash: &HashOutput,
        tweak: &C::Scalar,
    ) -> Result<(String, Broadcast3to4<C>), Abort> {
        let signing_pk = (crate::utilities::ec::mul_g::<C>(tweak) + self.pk).to_affine();
        let delta = tagged_hash_as_scalar::<C>(
            TAG_PRESIGN_RERANDOMIZE,
            &[
                &self.session_id,
                &self.derivation_data.chain_code,
                &point_to_bytes::<C>(&self.pk),
                &presignature.presign_id,
                &presignature.signers,
                &point_to_bytes::<C>(&presignature.instance_point),
                &point_to_bytes::<C>(&signing_pk),
                message_hash,
            ],
        );
        let instance_point =
            (C::ProjectivePoint::from(presignature.instance_point) + crate::utilities::ec::mul_g::<C>(&delta)).to_affine();
        if instance_point == <C::AffinePoint as CurveAffine>::identity() {
            return Err(Abort::recoverable(
                self.party_index,
                AbortReason::PolynomialInconsistency,
            ));
        }
        let phi = presignature.inversion_mask;
        let u = presignature.u + (delta * phi);
        let v = presignature.v + (*tweak * phi);
        let x_coord = hex::encode(instance_point.x());
        let msg_scalar = reduce_hash_bytes::<C>(message_hash);
        let rx_scalar = reduce_hex_bytes::<C>(&x_coord);
        let w = (msg_scalar * phi) + (v * rx_scalar);
        Ok((x_coord, Broadcast3to4 { u, w }))
    }
}
