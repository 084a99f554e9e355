//! Extension protocol.
//!
//! This file implements an Oblivious Transfer Extension (OTE) that realizes
//! Functionality 3 in `DKLs19` (<https://eprint.iacr.org/2019/523.pdf>). It is
//! used for the multiplication protocol (see multiplication.rs).
//!
//! As `DKLs23` suggested, we use Roy's `SoftSpokenOT` (<https://eprint.iacr.org/2022/192.pdf>).
//! However, we do not follow this paper directly. Instead, we use the `KOS` paper
//! available at <https://eprint.iacr.org/2015/546.pdf>. In the corrected version,
//! they present an alternative for their original protocol (which was used by `DKLs`,
//! but was not as secure as expected) using `SoftSpokenOT` (see Fig. 10 in `KOS`).
//!
//! In order to reduce the round count, we apply the Fiat-Shamir heuristic, as `DKLs23`
//! instructs. We also include an additional step in the protocol given by `KOS`. It
//! comes from Protocol 9 of the `DKLs18` paper (<https://eprint.iacr.org/2018/499.pdf>).
//! It is needed to transform the outputs to the desired form.
//!
//! # Remark: the OT width
//!
//! We implement the "forced-reuse" technique suggested in `DKLs23`.
//! As they say: "Alice performs the steps of the protocol for each input in
//! her vector, but uses a single batch of Bob’s OT instances for all of them,
//! concatenating the corresponding OT payloads to form one batch of payloads
//! with lengths proportionate to her input vector length."
//!
//! Actually, this approach is implicitly used in `DKLs19`. This can be seen,
//! for example, in the two following implementations:
//!
//! <https://github.com/coinbase/kryptology/blob/master/pkg/ot/extension/kos/kos.go>
//!
//! <https://github.com/docknetwork/crypto/blob/main/oblivious_transfer/src/ot_extensions/kos_ote.rs>
//!
//! In both of them, the sender supplies a vector of 2-tuples of correlations against
//! a unique vector of choice bits by the receiver. This number "2" is called in the
//! first implementation as the "OT width". We shall use the same terminology. Here,
//! instead of taking a vector of k-tuples of correlations, we equivalently deal with
//! k vectors of single correlations, where k is the OT width.

use rand::RngExt;
#[cfg(feature = "serde")]
use serde::de::Error;
#[cfg(feature = "serde")]
use serde::{Deserializer, Serializer};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::utilities::ct;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::DklsCurve;
use crate::{RAW_SECURITY, SECURITY, STAT_SECURITY};

use crate::utilities::hashes::{
    chi_pair_absorbing, finish_jobs, reduce_hash_to_scalar, tagged_hash, HashOutput,
    TaggedHasher,
};
use crate::utilities::oracle_tags::{TAG_OTE_CHI, TAG_OTE_PRG, TAG_OTE_RANDOMIZE, TAG_OTE_SESSION};
use crate::utilities::proofs::{DLogProof, EncProof};
use crate::utilities::rng;

use crate::utilities::ot::base::{OTReceiver, OTSender, Seed};
use crate::utilities::ot::ErrorOT;

// CONSTANTS
// You should not change these numbers!
// If you do, some parts of the code must be changed.

/// Computational security parameter.
pub const KAPPA: u16 = RAW_SECURITY;
/// Statistical security parameter used in `KOS`.
///
/// This particular number comes from the implementation of `DKLs19`:
/// <https://gitlab.com/neucrypt/mpecdsa/-/blob/release/src/lib.rs>.
///
/// It has to divide [`BATCH_SIZE`]!
const BASE_SECURITY: u16 = 128;
pub const OT_SECURITY: u16 = BASE_SECURITY + STAT_SECURITY;
/// The extension execute this number of OT's.
///
/// This particular number is the one used in the [multiplication protocol](super::super::multiplication).
pub const BATCH_SIZE: u16 = RAW_SECURITY + 2 * STAT_SECURITY;
/// Constant `l'` as in Fig. 10 of `KOS`.
pub const EXTENDED_BATCH_SIZE: u16 = BATCH_SIZE + OT_SECURITY;

/// Output of pseudo-random generator.
pub type PRGOutput = [u8; (EXTENDED_BATCH_SIZE / 8) as usize];
/// Encodes an element in the field of 2^`OT_SECURITY` elements.
pub type FieldElement = [u8; (OT_SECURITY / 8) as usize];

#[cfg(feature = "serde")]
const PRG_DATA_SIZE: usize = 78;
#[cfg(feature = "serde")]
pub fn serialize_vec_prg<S>(data: &[[u8; PRG_DATA_SIZE]], serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    // Tessera fork: one copy of the rows, not a vector per row (same bytes).
    let concatenated: Vec<u8> = data.concat();
    serde_bytes::Serialize::serialize(&concatenated, serializer)
}

#[cfg(feature = "serde")]
pub fn deserialize_vec_prg<'de, D>(deserializer: D) -> Result<Vec<[u8; PRG_DATA_SIZE]>, D::Error>
where
    D: Deserializer<'de>,
{
    let concatenated: Vec<u8> = serde_bytes::Deserialize::deserialize(deserializer)?;

    // Every such vector holds one PRG output per base OT.
    let expected = KAPPA as usize * PRG_DATA_SIZE;
    if concatenated.len() != expected {
        return Err(D::Error::invalid_length(
            concatenated.len(),
            &"KAPPA PRG outputs",
        ));
    }

    concatenated
        .chunks(PRG_DATA_SIZE)
        .map(|chunk| {
            let array: [u8; PRG_DATA_SIZE] = chunk.try_into().map_err(D::Error::custom)?;
            Ok(array)
        })
        .collect()
}

/// Sender's data and methods for the OTE protocol.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OTESender {
    pub correlation: Vec<bool>, // We will deal with bits separately
    pub seeds: Vec<HashOutput>,
}

/// Receiver's data and methods for the OTE protocol.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OTEReceiver {
    pub seeds0: Vec<HashOutput>,
    pub seeds1: Vec<HashOutput>,
}

/// Length of the fresh values each side contributes to one extension.
pub const OTE_NONCE_LEN: usize = 32;

/// A fresh value one side contributes to one extension: the receiver's
/// nonce, or the sender's salt.
pub type OteNonce = [u8; OTE_NONCE_LEN];

/// Session id of one extension: the caller's session id and the receiver's
/// fresh nonce.
///
/// The PRG expansion and the consistency challenges use it, so the receiver's
/// pads are fresh in every execution even if the caller repeats a session id.
fn extension_session_id(session_id: &[u8], receiver_nonce: &OteNonce) -> HashOutput {
    tagged_hash(TAG_OTE_SESSION, &[session_id, receiver_nonce])
}

/// Data transmitted by the receiver to the sender after his first phase.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OTEDataToSender {
    /// The receiver's fresh nonce for this extension.
    pub nonce: OteNonce,
    #[cfg_attr(
        feature = "serde",
        serde(
            serialize_with = "serialize_vec_prg",
            deserialize_with = "deserialize_vec_prg"
        )
    )]
    pub u: Vec<PRGOutput>,
    pub verify_x: FieldElement,
    pub verify_t: Vec<FieldElement>,
}

impl OTESender {
    /// Checks the dimensions of this (possibly deserialized) state.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the correlation or the seeds do not have
    /// [`KAPPA`] entries.
    pub fn check_state(&self) -> Result<(), ErrorOT> {
        if self.correlation.len() != KAPPA as usize || self.seeds.len() != KAPPA as usize {
            return Err(ErrorOT::new("OTE sender state has incorrect dimensions"));
        }
        Ok(())
    }

    // INITIALIZE

    // According to KOS (Fig. 10), the initialization is done by applying the OT protocol
    // KAPPA times and considering the outputs as "seeds".

    // Attention: The roles are reversed during this part!
    // Hence, a sender in the extension initializes as a receiver in the base OT.

    /// Starts the initialization.
    ///
    /// In this case, it initializes and runs **as a receiver** the first phase
    /// of the base OT ([`KAPPA`] times).
    ///
    /// See [`OTReceiver`] for an explanation of the outputs.
    #[must_use]
    pub fn init_phase1<C: DklsCurve>(
        session_id: &[u8],
    ) -> (OTReceiver, Vec<bool>, Vec<C::Scalar>, Vec<EncProof<C>>) {
        let ot_receiver = OTReceiver::init();

        // The choice bits are sampled randomly.
        let mut correlation: Vec<bool> = Vec::with_capacity(KAPPA as usize);
        for _ in 0..KAPPA {
            correlation.push(rng::get_rng().random());
        }

        // KAPPA is a compile-time u16 constant, so this never fails.
        let (vec_r, enc_proofs) = ot_receiver
            .run_phase1_batch::<C>(session_id, &correlation)
            .expect("KAPPA is a u16 constant and always fits");

        (ot_receiver, correlation, vec_r, enc_proofs)
    }

    /// Finishes the initialization.
    ///
    /// The inputs are the instance of [`OTReceiver`] generated
    /// in the previous round and everything needed to finish the OT base protocol
    /// (see the description of the aforementioned struct).
    ///
    /// # Errors
    ///
    /// Will return `Err` if `correlation` or `vec_r` does not hold [`KAPPA`]
    /// entries or if the base OT fails (see the file above).
    pub fn init_phase2<C: DklsCurve>(
        ot_receiver: &OTReceiver,
        session_id: &[u8],
        correlation: Vec<bool>,
        vec_r: &[C::Scalar],
        dlog_proof: &DLogProof<C>,
    ) -> Result<OTESender, ErrorOT> {
        if correlation.len() != KAPPA as usize || vec_r.len() != KAPPA as usize {
            return Err(ErrorOT::new("Wrong base OT batch size!"));
        }

        // The outputs from the base OT become the sender's seeds.
        let seeds = ot_receiver.run_phase2_batch::<C>(session_id, vec_r, dlog_proof)?;

        Ok(OTESender { correlation, seeds })
    }

    // PROTOCOL
    // We now follow the main steps in Fig. 10 of KOS.
    // The suggestions given in the DKLs papers are also implemented.
    // See the description at the beginning of this file for more details.

    /// Runs the sender's protocol.
    ///
    /// Input: OT width (see the remark [here](super::extension)), correlations for
    /// the points and values transmitted by the receiver. In this case, a correlation
    /// vector contains [`BATCH_SIZE`] scalars and `input_correlations` contains `ot_width`
    /// correlation vectors.
    ///
    /// Output: Protocol's output and data to be sent to the receiver (the
    /// vector of values tau and our fresh salt).
    /// The usual output would be just a vector of [`BATCH_SIZE`] scalars.
    /// However, we are executing the protocol `ot_width` times, so the result
    /// is a vector containing `ot_width` such vectors.
    ///
    /// # Errors
    ///
    /// Will return `Err` if `input_correlations` does not have the correct length,
    /// if the received data has incorrect dimensions, or if the consistency
    /// check using the receiver values fails.
    #[allow(clippy::type_complexity)]
    pub fn run<C: DklsCurve>(
        &self,
        session_id: &[u8],
        ot_width: u8,
        input_correlations: &[Vec<C::Scalar>],
        data: &OTEDataToSender,
    ) -> Result<(Vec<Vec<C::Scalar>>, Vec<Vec<C::Scalar>>, OteNonce), ErrorOT> {
        self.run_absorbing::<C>(session_id, ot_width, input_correlations, data, None)
    }

    /// [`Self::run`], and (Tessera fork) the receiver's matrix `u` also fed
    /// to `transcript` in a spare lane of the compressions that hash `u` for
    /// the consistency challenges. Same outputs as [`Self::run`].
    ///
    /// # Errors
    ///
    /// As [`Self::run`].
    #[allow(clippy::type_complexity)]
    pub fn run_absorbing<C: DklsCurve>(
        &self,
        session_id: &[u8],
        ot_width: u8,
        input_correlations: &[Vec<C::Scalar>],
        data: &OTEDataToSender,
        mut transcript: Option<&mut TaggedHasher>,
    ) -> Result<(Vec<Vec<C::Scalar>>, Vec<Vec<C::Scalar>>, OteNonce), ErrorOT> {
        // The protocol will be executed ot_width times using different input correlations.
        if input_correlations.len() != ot_width as usize {
            return Err(ErrorOT::new(
                "The vector of input correlations does not have the expected size!",
            ));
        }
        for correlation in input_correlations {
            if correlation.len() != BATCH_SIZE as usize {
                return Err(ErrorOT::new(
                    "A correlation vector has incorrect inner length",
                ));
            }
        }
        if self.correlation.len() != KAPPA as usize || self.seeds.len() != KAPPA as usize {
            return Err(ErrorOT::new("OTE sender state has incorrect dimensions"));
        }
        if data.u.len() != KAPPA as usize || data.verify_t.len() != KAPPA as usize {
            return Err(ErrorOT::new("OTE data has incorrect dimensions"));
        }

        // Everything below runs under the extension's session id, which
        // includes the receiver's nonce. Our fresh salt enters the output
        // randomization, so our outputs are fresh in every execution even if
        // the receiver repeats its nonce and the caller its session id.
        let extension_sid = extension_session_id(session_id, &data.nonce);
        let session_id = extension_sid.as_slice();
        let salt: OteNonce = rng::get_rng().random();

        // EXTEND

        // Step 1 - No action for the sender.

        // Step 2 - Extend the seed with the pseudorandom generator (PRG).
        // The PRG will be implemented via hash functions.
        // Tessera fork: chunks of the same tagged hashes as upstream, from the
        // midstate of their common prefix, written straight into the output.
        let prg_prefix = prg_prefix(session_id);
        let extended_seeds: Vec<PRGOutput> = prg_expand_rows(&prg_prefix, &self.seeds);

        // Step 3 - No action for the sender.

        // Step 4 - Compute the q from Fig. 10 in KOS.
        // It is computed with the matrix u sent by the receiver.
        let mut q: Vec<PRGOutput> = Vec::with_capacity(KAPPA as usize);
        for i in 0..KAPPA {
            // Tessera fork: one constant-time mask per row instead of a
            // `Choice` per byte; same selection.
            let mask = ct::mask(self.correlation[i as usize]);
            let mut q_i = [0; (EXTENDED_BATCH_SIZE / 8) as usize];
            for j in 0..EXTENDED_BATCH_SIZE / 8 {
                q_i[j as usize] =
                    (data.u[i as usize][j as usize] & mask) ^ extended_seeds[i as usize][j as usize];
            }
            q.push(q_i);
        }

        // CONSISTENCY CHECK

        // Step 1 - At this point, the sender would sample some random values to the receiver.
        // In order to reduce the round count, we adopt DKLs23 suggestion on page 30 and
        // modify this step via the Fiat-Shamir heuristic. Hence, this random value will not
        // be random but it will come from the data that the receiver has to transmit to
        // to the sender. In this case, we will simply hash the matrix u.

        // The constant m in KOS Fig. 10 is BATCH_SIZE/OT_SECURITY = 2. Thus, we need two
        // pseudorandom numbers chi1 and chi2. They have OT_SECURITY = 208 bits.
        // We can generate them with a hash.

        // We concatenate the rows of the matrix u.
        let msg = data.u.concat();

        // We apply the hash and remove extra bytes.
        let mut chi1 = [0u8; (OT_SECURITY / 8) as usize];
        let mut chi2 = [0u8; (OT_SECURITY / 8) as usize];
        // Tessera fork: both hashes of u side by side, u also fed to the
        // caller's transcript in a third lane.
        let (hash1, hash2) = chi_pair_absorbing(TAG_OTE_CHI, session_id, &msg, transcript.as_deref_mut());
        chi1.clone_from_slice(&hash1[0..(OT_SECURITY / 8) as usize]);
        chi2.clone_from_slice(&hash2[0..(OT_SECURITY / 8) as usize]);

        // Step 2 - No action for the sender.

        // Step 3 - Verify the values sent by the receiver against our data.
        // We start by computing the verifying vector q (as in KOS, Fig. 10).
        let mut verify_q: Vec<FieldElement> = Vec::with_capacity(KAPPA as usize);
        for i in 0..KAPPA {
            // The summation sign on the protocol is just the sum of the following two terms:
            // Tessera fork: both products in one comb (field_mul_sum).
            let prod_qi = field_mul_sum([
                (&q[i as usize][0..(OT_SECURITY / 8) as usize], &chi1),
                (
                    &q[i as usize][((OT_SECURITY / 8) as usize)..((2 * OT_SECURITY / 8) as usize)],
                    &chi2,
                ),
            ])?;

            //We sum the terms to get q_i.
            let mut verify_qi = [0u8; (OT_SECURITY / 8) as usize];
            for k in 0..OT_SECURITY / 8 {
                verify_qi[k as usize] =
                    prod_qi[k as usize] ^ q[i as usize][((2 * OT_SECURITY / 8) + k) as usize];
            }

            verify_q.push(verify_qi);
        }

        // We compute the same thing with the receiver's information.
        let mut verify_sender: Vec<FieldElement> = Vec::with_capacity(KAPPA as usize);
        for i in 0..KAPPA {
            let mask = ct::mask(self.correlation[i as usize]);
            let mut verify_sender_i = [0u8; (OT_SECURITY / 8) as usize];
            for k in 0..OT_SECURITY / 8 {
                verify_sender_i[k as usize] =
                    data.verify_t[i as usize][k as usize] ^ (data.verify_x[k as usize] & mask);
            }

            verify_sender.push(verify_sender_i);
        }

        // The two values must agree (constant-time comparison to prevent
        // timing side-channels that could help forge consistency-check values).
        let consistent = verify_q
            .iter()
            .zip(verify_sender.iter())
            .fold(subtle::Choice::from(1u8), |acc, (a, b)| acc & a.ct_eq(b));
        if !bool::from(consistent) {
            return Err(ErrorOT::new(
                "Receiver cheated in OTE: Consistency check failed!",
            ));
        }

        // TRANSPOSE AND RANDOMIZE

        // Step 1 - We compute the transpose of q and take the first BATCH_SIZE rows.
        let transposed_q = cut_and_transpose(&q)?;

        // Step 2 - No action for the sender.

        // Step 3 - We compute the final messages. For the final part, it will be better
        // if we compute them in the form of scalars.

        // IMPORTANT: This step will generate the sender's output. In this implementation,
        // we are executing the protocol ot_width times and, ideally, each execution must
        // use a different random oracle. Thus, this last part of code will be repeatedly
        // executed and the number of each iteration must appear in the hash functions.
        // We could also execute the previous steps ot_width times, but the consistency
        // checks would fail if we changed the random oracle (essentially because the
        // receiver did his part only once and with a unique random oracle).

        // For convenience, we write the correlation in "compressed form" as an array of u8.
        // We interpreted the correlation as a little-endian representation of a number.
        let mut compressed_correlation: Vec<u8> = Vec::with_capacity((KAPPA / 8) as usize);
        for i in 0..KAPPA / 8 {
            compressed_correlation.push(
                u8::from(self.correlation[(i * 8) as usize])
                    | (u8::from(self.correlation[(i * 8 + 1) as usize]) << 1)
                    | (u8::from(self.correlation[(i * 8 + 2) as usize]) << 2)
                    | (u8::from(self.correlation[(i * 8 + 3) as usize]) << 3)
                    | (u8::from(self.correlation[(i * 8 + 4) as usize]) << 4)
                    | (u8::from(self.correlation[(i * 8 + 5) as usize]) << 5)
                    | (u8::from(self.correlation[(i * 8 + 6) as usize]) << 6)
                    | (u8::from(self.correlation[(i * 8 + 7) as usize]) << 7),
            );
        }

        // Tessera fork: the same hashes as upstream (tag, session id, salt, j,
        // iteration, row), computed j by j so that every hash of a row j starts
        // from the midstate of its common prefix (tag, session id, salt, j).
        let width = ot_width as usize;
        let mut vector_of_v0: Vec<Vec<C::Scalar>> = (0..width)
            .map(|_| Vec::with_capacity(BATCH_SIZE as usize))
            .collect();
        let mut vector_of_v1: Vec<Vec<C::Scalar>> = (0..width)
            .map(|_| Vec::with_capacity(BATCH_SIZE as usize))
            .collect();
        let mut randomize_prefix = TaggedHasher::new(TAG_OTE_RANDOMIZE);
        // The length of the row index (two bytes for every j) is part of the
        // common prefix, so a block it completes is compressed once, not once
        // per row.
        randomize_prefix
            .component(session_id)
            .component(&salt)
            .component_len(2)
            .flush();
        // The iteration numbers as upstream hashes them (one byte each).
        let iterations: Vec<[u8; 1]> = (0..ot_width).map(u8::to_be_bytes).collect();
        for j in 0..BATCH_SIZE {
            // For v1, we compute transposed_q[j] ^ correlation.
            let mut transposed_qj_plus_correlation = [0u8; (KAPPA / 8) as usize];
            for i in 0..KAPPA / 8 {
                transposed_qj_plus_correlation[i as usize] =
                    transposed_q[j as usize][i as usize] ^ compressed_correlation[i as usize];
            }

            let mut row_prefix = randomize_prefix.clone();
            row_prefix.piece(&j.to_be_bytes()).flush();
            // The 2 * ot_width hashes of row j (v0 and v1 of every
            // iteration, in that order), finished four at a time.
            let row = &transposed_q[j as usize];
            let row_plus = &transposed_qj_plus_correlation;
            finish_jobs(
                2 * width,
                |k| {
                    let it: &[u8] = &iterations[k / 2];
                    let last: &[u8] = if k % 2 == 0 { row } else { row_plus };
                    (&row_prefix, [it, last])
                },
                |k, hash| {
                    let scalar = reduce_hash_to_scalar::<C>(hash);
                    if k % 2 == 0 {
                        vector_of_v0[k / 2].push(scalar);
                    } else {
                        vector_of_v1[k / 2].push(scalar);
                    }
                },
            );
        }

        // TRANSFER
        // We finished implementing Fig. 10 in KOS for the sender, which gives us
        // a random OT protocol. Now, for our use in DKLs23, we implement the
        // "Transfer" phase in Protocol 9 of DKLs18 (https://eprint.iacr.org/2018/499.pdf).

        // As before, this part is executed ot_width times.

        // Step 1 - We compute t_A and tau, as in the paper.
        // Note that t_A is just the message v0 we computed above.
        let mut vector_of_tau: Vec<Vec<C::Scalar>> = Vec::with_capacity(ot_width as usize);
        for iteration in 0..ot_width {
            // Retrieving the current values.
            let v0 = &vector_of_v0[iteration as usize];
            let v1 = &vector_of_v1[iteration as usize];
            let input_correlation = &input_correlations[iteration as usize];

            let mut tau: Vec<C::Scalar> = Vec::with_capacity(BATCH_SIZE as usize);
            for j in 0..BATCH_SIZE {
                let tau_j = v1[j as usize] - v0[j as usize] + input_correlation[j as usize];
                tau.push(tau_j);
            }

            vector_of_tau.push(tau);
        }

        // Step 2 - No action for the sender.

        // Each v0 in vector_of_v0 is the output for the sender in each iteration.
        // vector_of_tau and the salt have to be sent to the receiver.
        Ok((vector_of_v0, vector_of_tau, salt))
    }
}

impl OTEReceiver {
    /// Checks the dimensions of this (possibly deserialized) state.
    ///
    /// # Errors
    ///
    /// Will return `Err` if either seed vector does not have [`KAPPA`]
    /// entries.
    pub fn check_state(&self) -> Result<(), ErrorOT> {
        if self.seeds0.len() != KAPPA as usize || self.seeds1.len() != KAPPA as usize {
            return Err(ErrorOT::new(
                "OTE receiver seed vectors have incorrect dimensions",
            ));
        }
        Ok(())
    }

    // INITIALIZE

    // According to KOS (Fig. 10), the initialization is done by applying the OT protocol
    // KAPPA times and considering the outputs as "seeds".

    // Attention: The roles are reversed during this part!
    // Hence, a receiver in the extension initializes as a sender in the base OT.

    /// Starts the initialization.
    ///
    /// In this case, it initializes and runs **as a sender** the first phase
    /// of the base OT ([`KAPPA`] times).
    ///
    /// See [`OTSender`] for an explanation of the outputs.
    #[must_use]
    pub fn init_phase1<C: DklsCurve>(session_id: &[u8]) -> (OTSender<C>, DLogProof<C>) {
        let ot_sender = OTSender::<C>::init(session_id);

        let dlog_proof = ot_sender.run_phase1();

        (ot_sender, dlog_proof)
    }

    /// Finishes the initialization.
    ///
    /// The inputs are the instance of [`OTSender`] generated
    /// in the previous round and everything needed to finish the OT base protocol
    /// (see the description of the aforementioned struct).
    ///
    /// # Errors
    ///
    /// Will return `Err` if `enc_proofs` does not hold [`KAPPA`] proofs or
    /// if the base OT fails (see the file above).
    pub fn init_phase2<C: DklsCurve>(
        ot_sender: &OTSender<C>,
        session_id: &[u8],
        seed: &Seed,
        enc_proofs: &[EncProof<C>],
    ) -> Result<OTEReceiver, ErrorOT> {
        if enc_proofs.len() != KAPPA as usize {
            return Err(ErrorOT::new("Wrong base OT batch size!"));
        }

        // The outputs from the base OT become the receiver's seeds.
        let (seeds0, seeds1) = ot_sender.run_phase2_batch(session_id, seed, enc_proofs)?;

        Ok(OTEReceiver { seeds0, seeds1 })
    }

    // PROTOCOL
    // We now follow the main steps in Fig. 10 of KOS.

    /// Runs the first phase of the receiver's protocol.
    ///
    /// Note that it is the receiver who starts the OTE protocol.
    ///
    /// Input: [`BATCH_SIZE`] choice bits.
    ///
    /// Output: Extended seeds (used in the next phase) and data to be sent to the sender.
    ///
    /// # Errors
    ///
    /// Will return `Err` if `choice_bits` does not have length [`BATCH_SIZE`]
    /// or if receiver seed vectors have invalid dimensions.
    pub fn run_phase1(
        &self,
        session_id: &[u8],
        choice_bits: &[bool],
    ) -> Result<(Vec<PRGOutput>, OTEDataToSender), ErrorOT> {
        self.run_phase1_absorbing(session_id, choice_bits, None)
            .map(|(seeds, data, _)| (seeds, data))
    }

    /// [`Self::run_phase1`], and (Tessera fork) the matrix `u` also fed to
    /// the hasher `transcript` returns for our nonce, in a spare lane of the
    /// compressions that hash `u` for the consistency challenges; that hasher
    /// is returned. Same outputs and random draws as [`Self::run_phase1`].
    ///
    /// # Errors
    ///
    /// As [`Self::run_phase1`].
    #[allow(clippy::type_complexity)]
    pub fn run_phase1_absorbing(
        &self,
        session_id: &[u8],
        choice_bits: &[bool],
        transcript: Option<&dyn Fn(&OteNonce) -> TaggedHasher>,
    ) -> Result<(Vec<PRGOutput>, OTEDataToSender, Option<TaggedHasher>), ErrorOT> {
        if choice_bits.len() != BATCH_SIZE as usize {
            return Err(ErrorOT::new("Choice bits vector has incorrect length"));
        }
        if self.seeds0.len() != KAPPA as usize || self.seeds1.len() != KAPPA as usize {
            return Err(ErrorOT::new(
                "OTE receiver seed vectors have incorrect dimensions",
            ));
        }

        // Everything below runs under the extension's session id, which
        // includes our fresh nonce, so our pads are fresh in every execution
        // even if the caller repeats its session id.
        let nonce: OteNonce = rng::get_rng().random();
        let mut transcript = transcript.map(|start| start(&nonce));
        let extension_sid = extension_session_id(session_id, &nonce);
        let session_id = extension_sid.as_slice();
        // EXTEND

        // Step 1 - Extend the choice bits by adding random noise.
        let mut random_choice_bits: Vec<bool> = Vec::with_capacity(OT_SECURITY as usize);
        for _ in 0..OT_SECURITY {
            random_choice_bits.push(rng::get_rng().random());
        }
        let extended_choice_bits = [choice_bits, &random_choice_bits].concat();

        // For convenience, we also keep the choice bits in "compressed form" as an array of u8.
        // We interpreted extended_choice_bits as a little-endian representation of a number.
        let mut compressed_extended_bits: Vec<u8> =
            Vec::with_capacity((EXTENDED_BATCH_SIZE / 8) as usize);
        for i in 0..EXTENDED_BATCH_SIZE / 8 {
            compressed_extended_bits.push(
                u8::from(extended_choice_bits[(i * 8) as usize])
                    | (u8::from(extended_choice_bits[(i * 8 + 1) as usize]) << 1)
                    | (u8::from(extended_choice_bits[(i * 8 + 2) as usize]) << 2)
                    | (u8::from(extended_choice_bits[(i * 8 + 3) as usize]) << 3)
                    | (u8::from(extended_choice_bits[(i * 8 + 4) as usize]) << 4)
                    | (u8::from(extended_choice_bits[(i * 8 + 5) as usize]) << 5)
                    | (u8::from(extended_choice_bits[(i * 8 + 6) as usize]) << 6)
                    | (u8::from(extended_choice_bits[(i * 8 + 7) as usize]) << 7),
            );
        }

        // Step 2 - Extend the seeds with the pseudorandom generator (PRG).
        // The PRG will be implemented via hash functions.
        // Tessera fork: see the sender's PRG.
        let prg_prefix = prg_prefix(session_id);
        let extended_seeds0: Vec<PRGOutput> = prg_expand_rows(&prg_prefix, &self.seeds0);
        let extended_seeds1: Vec<PRGOutput> = prg_expand_rows(&prg_prefix, &self.seeds1);

        // Step 3 - Compute the matrix u from Fig. 10 in KOS.
        // This matrix will be sent to the sender.
        let mut u: Vec<PRGOutput> = Vec::with_capacity(KAPPA as usize);
        for i in 0..KAPPA {
            let mut u_i = [0; (EXTENDED_BATCH_SIZE / 8) as usize];
            for j in 0..EXTENDED_BATCH_SIZE / 8 {
                u_i[j as usize] = extended_seeds0[i as usize][j as usize]
                    ^ extended_seeds1[i as usize][j as usize]
                    ^ compressed_extended_bits[j as usize];
            }
            u.push(u_i);
        }

        // Step 4 - No action for the receiver.

        // CONSISTENCY CHECK

        // Step 1 - At this point, the sender would sample some random values to the receiver.
        // In order to reduce the round count, we adopt DKLs23 suggestion on page 30 and
        // modify this step via the Fiat-Shamir heuristic. Hence, this random value will not
        // be random but it will come from the data that the receiver has to transmit to
        // to the sender. In this case, we will simply hash the matrix u.

        // The constant m in KOS Fig. 10 is BATCH_SIZE/OT_SECURITY = 2. Thus, we need two
        // pseudorandom numbers chi1 and chi2. They have OT_SECURITY = 208 bits.
        // We can generate them with a hash.

        // We concatenate the rows of the matrix u.
        let msg = u.concat();

        // We apply the hash and remove extra bytes.
        let mut chi1 = [0u8; (OT_SECURITY / 8) as usize];
        let mut chi2 = [0u8; (OT_SECURITY / 8) as usize];
        // Tessera fork: both hashes of u side by side, u also fed to the
        // caller's transcript in a third lane.
        let (hash1, hash2) = chi_pair_absorbing(TAG_OTE_CHI, session_id, &msg, transcript.as_mut());
        chi1.clone_from_slice(&hash1[0..(OT_SECURITY / 8) as usize]);
        chi2.clone_from_slice(&hash2[0..(OT_SECURITY / 8) as usize]);

        // Step 2 - We compute the verification values to the sender.
        // The summation sign on the protocol is just the sum of the following two terms:
        let prod_x_1 = field_mul(
            &compressed_extended_bits[0..(OT_SECURITY / 8) as usize],
            &chi1,
        )?;
        let prod_x_2 = field_mul(
            &compressed_extended_bits
                [((OT_SECURITY / 8) as usize)..((2 * OT_SECURITY / 8) as usize)],
            &chi2,
        )?;

        // We sum the terms to get x.
        let mut verify_x = [0u8; (OT_SECURITY / 8) as usize];
        for k in 0..OT_SECURITY / 8 {
            verify_x[k as usize] = prod_x_1[k as usize]
                ^ prod_x_2[k as usize]
                ^ compressed_extended_bits[((2 * OT_SECURITY / 8) + k) as usize];
        }

        let mut verify_t: Vec<FieldElement> = Vec::with_capacity(KAPPA as usize);
        for i in 0..KAPPA {
            // The summation sign on the protocol is just the sum of the following two terms:
            // Tessera fork: both products in one comb (field_mul_sum).
            let prod_ti = field_mul_sum([
                (&extended_seeds0[i as usize][0..(OT_SECURITY / 8) as usize], &chi1),
                (
                    &extended_seeds0[i as usize]
                        [((OT_SECURITY / 8) as usize)..((2 * OT_SECURITY / 8) as usize)],
                    &chi2,
                ),
            ])?;

            //We sum the terms to get t_i.
            let mut verify_ti = [0u8; (OT_SECURITY / 8) as usize];
            for k in 0..OT_SECURITY / 8 {
                verify_ti[k as usize] = prod_ti[k as usize]
                    ^ extended_seeds0[i as usize][((2 * OT_SECURITY / 8) + k) as usize];
            }

            verify_t.push(verify_ti);
        }

        // Step 3 - No action for the receiver.

        // These values are transmitted to the sender.
        let data_to_sender = OTEDataToSender {
            nonce,
            u,
            verify_x,
            verify_t,
        };

        // extended_seeds0 has to be kept for the next phase.
        Ok((extended_seeds0, data_to_sender, transcript))
    }

    /// Finishes the receiver's protocol and gives his output.
    ///
    /// Input: Previous inputs, our nonce from the previous phase
    /// ([`OTEDataToSender::nonce`]), the sender's salt, the OT width (see the
    /// remark [here](super::extension)), the `extended_seeds` from the previous
    /// phase and the vector of values tau sent by the sender.
    ///
    /// Output: Protocol's output. The usual output would be just a vector of [`BATCH_SIZE`]
    /// scalars. However, we are executing the protocol `ot_width` times, so the result
    /// is a vector containing `ot_width` such vectors.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the dimensions of one of the input vectors are invalid.
    #[allow(clippy::too_many_arguments)]
    pub fn run_phase2<C: DklsCurve>(
        &self,
        session_id: &[u8],
        receiver_nonce: &OteNonce,
        sender_salt: &OteNonce,
        ot_width: u8,
        choice_bits: &[bool],
        extended_seeds: &[PRGOutput],
        vector_of_tau: &[Vec<C::Scalar>],
    ) -> Result<Vec<Vec<C::Scalar>>, ErrorOT> {
        // IMPORTANT: Since the sender executed its part with our data ot_width times,
        // our final result will be ot_width times the usual result we would get.
        // But first, we check that the sender gave us a message with the correct length.
        if choice_bits.len() != BATCH_SIZE as usize {
            return Err(ErrorOT::new("Choice bits vector has incorrect length"));
        }
        if extended_seeds.len() != KAPPA as usize {
            return Err(ErrorOT::new(
                "Extended seed matrix has incorrect dimensions",
            ));
        }
        if vector_of_tau.len() != ot_width as usize {
            return Err(ErrorOT::new(
                "The vector sent by the sender does not have the expected size!",
            ));
        }
        for tau in vector_of_tau {
            if tau.len() != BATCH_SIZE as usize {
                return Err(ErrorOT::new("Tau vector has incorrect inner length"));
            }
        }

        let extension_sid = extension_session_id(session_id, receiver_nonce);
        let session_id = extension_sid.as_slice();

        // TRANSPOSE AND RANDOMIZE

        // Step 1 - We compute the transpose of extended_seeds and take the first BATCH_SIZE rows.
        let transposed_t = cut_and_transpose(extended_seeds)?;

        // Step 2 - We compute the final message. For the final part, it will be better
        // if we compute it in the form of a scalar.

        // As stated for the sender, we run this part ot_width times with varying salts.
        // Tessera fork: computed j by j from shared midstates, as the sender does.
        let mut vector_of_v: Vec<Vec<C::Scalar>> = (0..ot_width)
            .map(|_| Vec::with_capacity(BATCH_SIZE as usize))
            .collect();
        let mut randomize_prefix = TaggedHasher::new(TAG_OTE_RANDOMIZE);
        // As at the sender: the row index's length in the common prefix.
        randomize_prefix
            .component(session_id)
            .component(sender_salt)
            .component_len(2)
            .flush();
        let iterations: Vec<[u8; 1]> = (0..ot_width).map(u8::to_be_bytes).collect();
        for j in 0..BATCH_SIZE {
            let mut row_prefix = randomize_prefix.clone();
            row_prefix.piece(&j.to_be_bytes()).flush();
            // The ot_width hashes of row j, finished four at a time.
            let row: &[u8] = &transposed_t[j as usize];
            finish_jobs(
                ot_width as usize,
                |k| (&row_prefix, [&iterations[k][..], row]),
                |k, hash| vector_of_v[k].push(reduce_hash_to_scalar::<C>(hash)),
            );
        }

        // Step 3 - No action for the receiver.

        // TRANSFER
        // We finished implementing Fig. 10 in KOS for the receiver, which gives us
        // a random OT protocol. Now, for our use in DKLs23, we implement the
        // "Transfer" phase in Protocol 9 of DKLs18 (https://eprint.iacr.org/2018/499.pdf).

        // Again, we repeat this step ot_width times.

        // Step 1 - No action for the receiver.

        // Step 2 - We compute t_B as in the paper. We use the value tau sent by the sender.
        let mut vector_of_t_b: Vec<Vec<C::Scalar>> = Vec::with_capacity(ot_width as usize);
        for iteration in 0..ot_width {
            // Retrieving the current values.
            let v = &vector_of_v[iteration as usize];
            let tau = &vector_of_tau[iteration as usize];

            let mut t_b: Vec<C::Scalar> = Vec::with_capacity(BATCH_SIZE as usize);
            for j in 0..BATCH_SIZE {
                let t_b_j = C::Scalar::conditional_select(
                    &<C::Scalar as ff::Field>::ZERO,
                    &tau[j as usize],
                    ct::choice(choice_bits[j as usize]),
                ) - v[j as usize];
                t_b.push(t_b_j);
            }

            vector_of_t_b.push(t_b);
        }

        // Each t_b in vector_of_t_b is the output for the receiver in each iteration.
        Ok(vector_of_t_b)
    }
}

// EXTRA FUNCTIONS

/// The PRG's common prefix: tag and extension session id (Tessera fork).
fn prg_prefix(session_id: &[u8]) -> TaggedHasher {
    let mut h = TaggedHasher::new(TAG_OTE_PRG);
    // Flushed here, once, rather than in each row's clone.
    h.component(session_id).flush();
    h
}

/// Rows `i = 0, 1, ...` of the PRG for `seeds[i]`: each the concatenated chunks
/// `tagged_hash(TAG_OTE_PRG, [session_id, i, count, seed])`, count = 0, 1, ...,
/// cut to [`EXTENDED_BATCH_SIZE`] bits, as upstream computes them (Tessera fork:
/// from the prefix's midstate, every chunk of every row finished four at a
/// time through [`finish_jobs`]).
fn prg_expand_rows(prefix: &TaggedHasher, seeds: &[HashOutput]) -> Vec<PRGOutput> {
    const OUT: usize = (EXTENDED_BATCH_SIZE / 8) as usize;
    const CHUNKS: usize = OUT.div_ceil(SECURITY as usize);
    const COUNTS: [[u8; 2]; CHUNKS] = {
        let mut counts = [[0u8; 2]; CHUNKS];
        let mut c = 0;
        while c < CHUNKS {
            counts[c] = (c as u16).to_be_bytes();
            c += 1;
        }
        counts
    };
    let row_prefixes: Vec<TaggedHasher> = (0..seeds.len())
        .map(|i| {
            let mut row_prefix = prefix.clone();
            row_prefix.component(&(i as u16).to_be_bytes()).flush();
            row_prefix
        })
        .collect();
    let mut rows = vec![[0u8; OUT]; seeds.len()];
    finish_jobs(
        seeds.len() * CHUNKS,
        |k| (&row_prefixes[k / CHUNKS], [&COUNTS[k % CHUNKS][..], &seeds[k / CHUNKS][..]]),
        |k, chunk| {
            let (i, c) = (k / CHUNKS, k % CHUNKS);
            let n = (OUT - c * chunk.len()).min(chunk.len());
            rows[i][c * chunk.len()..c * chunk.len() + n].copy_from_slice(&chunk[..n]);
        },
    );
    rows
}

/// One row of the PRG, as [`prg_expand_rows`] computes row `i` (kept for the
/// tests that compare it with upstream's construction).
#[cfg(test)]
fn prg_expand(prefix: &TaggedHasher, i: u16, seed: &[u8]) -> PRGOutput {
    let mut out = [0u8; (EXTENDED_BATCH_SIZE / 8) as usize];
    let mut row_prefix = prefix.clone();
    row_prefix.component(&i.to_be_bytes());
    let mut count = 0u16;
    let mut filled = 0usize;
    while filled < out.len() {
        let mut h = row_prefix.clone();
        h.component(&count.to_be_bytes()).component(seed);
        count += 1;
        let chunk = h.finish();
        let n = (out.len() - filled).min(chunk.len());
        out[filled..filled + n].copy_from_slice(&chunk[..n]);
        filled += n;
    }
    out
}

/// Transposes a given matrix.
///
/// This function receives a [`KAPPA`] by [`EXTENDED_BATCH_SIZE`] matrix of booleans,
/// takes the first [`BATCH_SIZE`] columns and computes the transpose matrix, which
/// has [`BATCH_SIZE`] rows and [`KAPPA`] columns.
///
/// The only problem is that the rows in the input and output are grouped in
/// bytes, so we have to take some care. For this conversion, we think of
/// the rows as a little-endian representation of a number. For example, the row
/// \[1110000010100000\] corresponds to \[7, 5\] in bytes (and not \[224,160\]).
///
/// This code was essentially copied from the function `transposeBooleanMatrix` here:
/// <https://github.com/coinbase/kryptology/blob/master/pkg/ot/extension/kos/kos.go>.
pub fn cut_and_transpose(input: &[PRGOutput]) -> Result<Vec<HashOutput>, ErrorOT> {
    if input.len() != KAPPA as usize {
        return Err(ErrorOT::new(
            "Transpose input matrix has incorrect dimensions",
        ));
    }
    // Tessera fork: 8x8 blocks of bits at a time instead of bit by bit. The
    // bytes of eight input rows at one column byte form a 64-bit word whose
    // bit 8r + c is row r, column c; three delta swaps move every bit to
    // 8c + r, so byte c of the result holds column c of the eight rows: a
    // byte of output row c. Same bits, same places; no branch or index
    // depends on the (secret) contents.
    let mut output: Vec<HashOutput> = vec![[0u8; (KAPPA / 8) as usize]; BATCH_SIZE as usize];
    for row_byte in 0..(KAPPA / 8) as usize {
        let rows = &input[8 * row_byte..8 * row_byte + 8];
        // The next loop should go up to EXTENDED_BATCH_SIZE/8 if we wanted
        // to compute the actual transpose, so it is here that we do the cut.
        for column_byte in 0..(BATCH_SIZE / 8) as usize {
            let mut x = 0u64;
            for (r, row) in rows.iter().enumerate() {
                x |= u64::from(row[column_byte]) << (8 * r);
            }
            let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
            x ^= t ^ (t << 7);
            let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
            x ^= t ^ (t << 14);
            let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
            x ^= t ^ (t << 28);
            for c in 0..8 {
                output[8 * column_byte + c][row_byte] = (x >> (8 * c)) as u8;
            }
        }
    }

    Ok(output)
}

/// Multiplication in the finite field of order 2^[`OT_SECURITY`]].
///
/// We follow <https://github.com/coinbase/kryptology/blob/master/pkg/ot/extension/kos/kos.go>.
///
/// It is based on Algorithm 2.34 ("Right-to-left comb method for polynomial multiplication")
/// and Figure 2.9 (for reduction modulo the irreducible polynomial) of the book
/// Guide to Elliptic Curve Cryptography by Hankerson, Menezes and Vanstone.
///
///
/// # Errors
///
/// Will return `Err` if `left` or `right` doesn't have the correct size, that is
/// [`OT_SECURITY`] = 208 bits.
pub fn field_mul(left: &[u8], right: &[u8]) -> Result<FieldElement, ErrorOT> {
    // Tessera fork: a left-to-right comb with 4-bit windows (Algorithm 2.36 of
    // the same book) over the bits of `right`, with the 16 multiples of `left`
    // precomputed. Every caller passes a Fiat-Shamir challenge (chi1, chi2:
    // hashes of the public matrix u) as `right`, so the branches and table
    // indices depend only on public data; `left` (seeds, choice bits) is only
    // ever XORed. Same product as upstream's bit-by-bit comb, about five
    // times fewer operations.
    field_mul_sum([(left, right)])
}

/// `field_mul(l_0, r_0) ^ field_mul(l_1, r_1) ^ ...` (Tessera fork): the
/// products of the consistency check's two halves share the comb's shifts
/// and one reduction. As in [`field_mul`], the `right` operands must be
/// public (they choose branches and table entries) and the `left` ones are
/// only XORed.
///
/// # Errors
///
/// Will return `Err` if an operand doesn't have the correct size.
pub fn field_mul_sum<const N: usize>(pairs: [(&[u8], &[u8]); N]) -> Result<FieldElement, ErrorOT> {
    const T: usize = 4;
    const BYTES: usize = (OT_SECURITY / 8) as usize;

    let words = |bytes: &[u8]| {
        let mut w = [0u64; T];
        for (i, byte) in bytes.iter().enumerate() {
            w[i >> 3] |= u64::from(*byte) << ((i & 0x07) << 3);
        }
        w
    };
    for (left, right) in &pairs {
        if left.len() != BYTES || right.len() != BYTES {
            return Err(ErrorOT::new(
                "Binary field multiplication: entries don't have the correct length",
            ));
        }
    }
    let tables: [([[u64; T]; 16], [u64; T]); N] = core::array::from_fn(|p| {
        let (left, right) = pairs[p];
        let a = words(left);
        // table[u] = u(X) * a(X) for every polynomial u of degree < 4. `a` has
        // 208 bits, so each product fits in four words.
        let mut table = [[0u64; T]; 16];
        for m in 0..4 {
            let bit = 1usize << m;
            table[bit] = [
                a[0] << m,
                (a[1] << m) | (a[0] >> 1 >> (63 - m)),
                (a[2] << m) | (a[1] >> 1 >> (63 - m)),
                (a[3] << m) | (a[2] >> 1 >> (63 - m)),
            ];
            for low in 1..bit {
                for w in 0..T {
                    table[bit | low][w] = table[bit][w] ^ table[low][w];
                }
            }
        }
        (table, words(right))
    });

    let mut c = [0u64; 2 * T];
    for k in (0..16).rev() {
        for (table, b) in &tables {
            for j in 0..T {
                let u = ((b[j] >> (4 * k)) & 0x0f) as usize;
                if u != 0 {
                    for w in 0..T {
                        c[j + w] ^= table[u][w];
                    }
                }
            }
        }
        if k != 0 {
            for w in (1..2 * T).rev() {
                c[w] = (c[w] << 4) | (c[w - 1] >> 60);
            }
            c[0] <<= 4;
        }
    }

    // Reduction modulo f(X) = X^208 + X^9 + X^3 + X + 1, as upstream.
    for i in (T..(2 * T)).rev() {
        let t = c[i];
        c[i - 4] ^= (t << 57) ^ (t << 51) ^ (t << 49) ^ (t << 48);
        c[i - 3] ^= (t >> 7) ^ (t >> 13) ^ (t >> 15) ^ (t >> 16);
        c[i] = 0;
    }
    let t = c[T - 1] >> 16;
    c[0] ^= (t << 9) ^ (t << 3) ^ (t << 1) ^ t;
    c[T - 1] &= 0xFFFF;

    let mut result = [0u8; BYTES];
    for (i, byte) in result.iter_mut().enumerate() {
        *byte = (c[i >> 3] >> ((i & 0x07) << 3)) as u8;
    }

    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::utilities::hashes::scalar_to_bytes;
    use elliptic_curve::CurveArithmetic;
    use ff::Field;
    use k256::Secp256k1;
    use rand::RngExt;
    use std::collections::HashSet;

    type TestCurve = Secp256k1;
    type Scalar = <TestCurve as CurveArithmetic>::Scalar;

    /// The base OT batch must hold exactly `KAPPA` instances on both sides.
    #[test]
    fn test_init_phase2_rejects_wrong_batch_size() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let (ot_sender, dlog_proof) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            OTESender::init_phase1::<TestCurve>(&session_id);
        let seed = ot_receiver.seed;

        let short = &enc_proofs[..enc_proofs.len() - 1];
        assert!(
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, short).is_err()
        );
        assert!(
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &[]).is_err()
        );

        let short_r = &vec_r[..vec_r.len() - 1];
        let short_correlation = correlation[..correlation.len() - 1].to_vec();
        assert!(OTESender::init_phase2::<TestCurve>(
            &ot_receiver,
            &session_id,
            short_correlation,
            short_r,
            &dlog_proof,
        )
        .is_err());
        assert!(OTESender::init_phase2::<TestCurve>(
            &ot_receiver,
            &session_id,
            Vec::new(),
            &vec_r,
            &dlog_proof,
        )
        .is_err());
    }

    fn prepare_ote_sender_inputs(
        session_id: &[u8; crate::utilities::ID_LEN],
        ot_width: u8,
    ) -> (OTESender, Vec<Vec<Scalar>>, OTEDataToSender) {
        // INITIALIZATION
        let (ot_sender, dlog_proof) = OTEReceiver::init_phase1::<TestCurve>(session_id);
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            OTESender::init_phase1::<TestCurve>(session_id);
        let seed = ot_receiver.seed;

        let ote_receiver =
            match OTEReceiver::init_phase2::<TestCurve>(&ot_sender, session_id, &seed, &enc_proofs)
            {
                Ok(r) => r,
                Err(error) => {
                    panic!("OTE error: {:?}", error.description);
                }
            };
        let ote_sender = match OTESender::init_phase2::<TestCurve>(
            &ot_receiver,
            session_id,
            correlation,
            &vec_r,
            &dlog_proof,
        ) {
            Ok(s) => s,
            Err(error) => {
                panic!("OTE error: {:?}", error.description);
            }
        };

        // PROTOCOL INPUTS
        let mut sender_input_correlations: Vec<Vec<Scalar>> = Vec::with_capacity(ot_width as usize);
        for _ in 0..ot_width {
            let mut current_input_correlation: Vec<Scalar> =
                Vec::with_capacity(BATCH_SIZE as usize);
            for _ in 0..BATCH_SIZE {
                current_input_correlation.push(<Scalar as Field>::random(&mut rng::get_rng()));
            }
            sender_input_correlations.push(current_input_correlation);
        }

        let mut receiver_choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            receiver_choice_bits.push(rng::get_rng().random());
        }
        let (_, data_to_sender) = ote_receiver
            .run_phase1(session_id, &receiver_choice_bits)
            .expect("OTE receiver phase1 should succeed");

        (ote_sender, sender_input_correlations, data_to_sender)
    }

    /// Tests if [`field_mul`] is correctly computing
    /// the multiplication in the finite field.
    ///
    /// It is based on the test found here:
    /// <https://github.com/coinbase/kryptology/blob/master/pkg/ot/extension/kos/kos_test.go>.
    #[test]
    fn test_field_mul() {
        for _ in 0..100 {
            let initial = rng::get_rng().random::<FieldElement>();

            //Raising an element to the power 2^208 must not change it.
            let mut result = initial;
            for _ in 0..OT_SECURITY {
                result = field_mul(&result, &result).expect("field multiplication should succeed");
            }

            assert_eq!(initial, result);
        }
    }

    /// Tests that field multiplication rejects malformed input lengths.
    #[test]
    fn test_field_mul_rejects_wrong_lengths() {
        let short = [0u8; ((OT_SECURITY / 8) - 1) as usize];
        let exact = [0u8; (OT_SECURITY / 8) as usize];
        let error = field_mul(&short, &exact).expect_err("short input should fail");
        assert!(error.description.contains("correct length"));
    }

    /// Tests that transpose helper rejects malformed outer dimensions.
    #[test]
    fn test_cut_and_transpose_rejects_wrong_dimensions() {
        let malformed = vec![[0u8; (EXTENDED_BATCH_SIZE / 8) as usize]; (KAPPA as usize) - 1];
        let error = cut_and_transpose(&malformed).expect_err("wrong row count should fail");
        assert!(error.description.contains("incorrect dimensions"));
    }

    /// Tests if receiver-side OTE phase 1 rejects malformed choice bit lengths.
    #[test]
    fn test_ot_extension_receiver_phase1_rejects_wrong_choice_bits_len() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let (ot_sender, _) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, _, _, enc_proofs) = OTESender::init_phase1::<TestCurve>(&session_id);
        let seed = ot_receiver.seed;

        let ote_receiver =
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &enc_proofs)
                .expect("OTE receiver init should succeed");

        let wrong_choice_bits = vec![false; (BATCH_SIZE as usize) - 1];
        let error = ote_receiver
            .run_phase1(&session_id, &wrong_choice_bits)
            .expect_err("wrong choice-bit length should fail");
        assert!(error
            .description
            .contains("Choice bits vector has incorrect length"));
    }

    /// Tests if receiver-side OTE phase 2 rejects malformed choice bit lengths.
    #[test]
    fn test_ot_extension_receiver_phase2_rejects_wrong_choice_bits_len() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let (ot_sender, _) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, _, _, enc_proofs) = OTESender::init_phase1::<TestCurve>(&session_id);
        let seed = ot_receiver.seed;

        let ote_receiver =
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &enc_proofs)
                .expect("OTE receiver init should succeed");

        let mut receiver_choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            receiver_choice_bits.push(rng::get_rng().random());
        }
        let (extended_seeds, data_to_sender) = ote_receiver
            .run_phase1(&session_id, &receiver_choice_bits)
            .expect("OTE receiver phase1 should succeed");

        let wrong_choice_bits = vec![false; (BATCH_SIZE as usize) - 1];
        let tau = vec![vec![<Scalar as Field>::ZERO; BATCH_SIZE as usize]];
        let error = ote_receiver
            .run_phase2::<TestCurve>(
                &session_id,
                &data_to_sender.nonce,
                &[0u8; OTE_NONCE_LEN],
                1,
                &wrong_choice_bits,
                &extended_seeds,
                &tau,
            )
            .expect_err("wrong choice-bit length should fail");
        assert!(error
            .description
            .contains("Choice bits vector has incorrect length"));
    }

    /// The sender's outputs and tau are fresh in every execution, even when it
    /// receives the same receiver message under the same session id.
    #[test]
    fn test_ote_sender_outputs_fresh_for_repeated_receiver_message() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let (ote_sender, correlations, data_to_sender) = prepare_ote_sender_inputs(&session_id, 1);

        let (v0_first, tau_first, salt_first) = ote_sender
            .run::<TestCurve>(&session_id, 1, &correlations, &data_to_sender)
            .unwrap();
        let (v0_second, tau_second, salt_second) = ote_sender
            .run::<TestCurve>(&session_id, 1, &correlations, &data_to_sender)
            .unwrap();

        assert_ne!(salt_first, salt_second);
        for j in 0..BATCH_SIZE as usize {
            assert_ne!(v0_first[0][j], v0_second[0][j]);
            assert_ne!(tau_first[0][j], tau_second[0][j]);
        }
    }

    /// The receiver's pads are fresh in every execution, even for the same
    /// session id and choice bits: no column of `u` repeats.
    #[test]
    fn test_ote_receiver_pads_fresh_for_repeated_session_id() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let (ot_sender, _) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, _, _, enc_proofs) = OTESender::init_phase1::<TestCurve>(&session_id);
        let ote_receiver = OTEReceiver::init_phase2::<TestCurve>(
            &ot_sender,
            &session_id,
            &ot_receiver.seed,
            &enc_proofs,
        )
        .unwrap();
        let choice_bits = vec![false; BATCH_SIZE as usize];

        let (_, first) = ote_receiver.run_phase1(&session_id, &choice_bits).unwrap();
        let (_, second) = ote_receiver.run_phase1(&session_id, &choice_bits).unwrap();

        assert_ne!(first.nonce, second.nonce);
        // The first BATCH_SIZE columns carry the (equal) choice bits; with a
        // repeated PRG expansion they would be equal too.
        let choice_bytes = (BATCH_SIZE / 8) as usize;
        for (row_first, row_second) in first.u.iter().zip(&second.u) {
            assert_ne!(row_first[..choice_bytes], row_second[..choice_bytes]);
        }
    }

    /// Tests if the outputs for the OTE protocol
    /// satisfy the relations they are supposed to satisfy.
    #[test]
    fn test_ot_extension() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();

        // INITIALIZATION

        // Phase 1 - Receiver
        let (ot_sender, dlog_proof) = OTEReceiver::init_phase1::<TestCurve>(&session_id);

        // Phase 1 - Sender
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            OTESender::init_phase1::<TestCurve>(&session_id);

        // Communication round (Exchange the proofs and the seed)
        let seed = ot_receiver.seed;

        // Phase 2 - Receiver
        let result_receiver =
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &enc_proofs);
        let ote_receiver = match result_receiver {
            Ok(r) => r,
            Err(error) => {
                panic!("OTE error: {:?}", error.description);
            }
        };

        // Phase 2 - Sender
        let result_sender = OTESender::init_phase2::<TestCurve>(
            &ot_receiver,
            &session_id,
            correlation,
            &vec_r,
            &dlog_proof,
        );
        let ote_sender = match result_sender {
            Ok(s) => s,
            Err(error) => {
                panic!("OTE error: {:?}", error.description);
            }
        };

        // PROTOCOL

        let ot_width = 4;

        // Sampling the choices.
        let mut sender_input_correlations: Vec<Vec<Scalar>> = Vec::with_capacity(ot_width as usize);
        for _ in 0..ot_width {
            let mut current_input_correlation: Vec<Scalar> =
                Vec::with_capacity(BATCH_SIZE as usize);
            for _ in 0..BATCH_SIZE {
                current_input_correlation.push(<Scalar as Field>::random(&mut rng::get_rng()));
            }
            sender_input_correlations.push(current_input_correlation);
        }

        let mut receiver_choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            receiver_choice_bits.push(rng::get_rng().random());
        }

        // Phase 1 - Receiver
        let (extended_seeds, data_to_sender) = ote_receiver
            .run_phase1(&session_id, &receiver_choice_bits)
            .expect("OTE receiver phase1 should succeed");

        // Communication round 1
        // Receiver keeps extended_seeds and transmits data_to_sender.

        // Unique phase - Sender
        let sender_result = ote_sender.run::<TestCurve>(
            &session_id,
            ot_width,
            &sender_input_correlations,
            &data_to_sender,
        );

        let sender_outputs: Vec<Vec<Scalar>>;
        let vector_of_tau: Vec<Vec<Scalar>>;
        let salt: OteNonce;
        match sender_result {
            Ok((v0, t, s)) => {
                (sender_outputs, vector_of_tau, salt) = (v0, t, s);
            }
            Err(error) => {
                panic!("OTE error: {:?}", error.description);
            }
        }

        // Communication round 2
        // Sender transmits tau.

        // Phase 2 - Receiver
        let receiver_result = ote_receiver.run_phase2::<TestCurve>(
            &session_id,
            &data_to_sender.nonce,
            &salt,
            ot_width,
            &receiver_choice_bits,
            &extended_seeds,
            &vector_of_tau,
        );

        let receiver_outputs = match receiver_result {
            Ok(t_b) => t_b,
            Err(error) => {
                panic!("OTE error: {:?}", error.description);
            }
        };

        // Verification that the protocol did what it should do.

        let mut sender_outputs_as_bytes: Vec<Vec<u8>> = Vec::with_capacity(ot_width as usize);
        let mut receiver_outputs_as_bytes: Vec<Vec<u8>> = Vec::with_capacity(ot_width as usize);

        for iteration in 0..ot_width {
            for i in 0..BATCH_SIZE {
                //Depending on the choice the receiver made, the sum of the outputs should
                //be equal to 0 or to the correlation the sender chose.
                let sum = sender_outputs[iteration as usize][i as usize]
                    + receiver_outputs[iteration as usize][i as usize];
                if receiver_choice_bits[i as usize] {
                    assert_eq!(
                        sum,
                        sender_input_correlations[iteration as usize][i as usize]
                    );
                } else {
                    assert_eq!(sum, <Scalar as Field>::ZERO);
                }
            }

            // We save these outputs in bytes for the next verification.
            sender_outputs_as_bytes.push(
                sender_outputs[iteration as usize]
                    .clone()
                    .into_iter()
                    .map(|x| scalar_to_bytes::<TestCurve>(&x))
                    .collect::<Vec<Vec<u8>>>()
                    .concat(),
            );
            receiver_outputs_as_bytes.push(
                receiver_outputs[iteration as usize]
                    .clone()
                    .into_iter()
                    .map(|x| scalar_to_bytes::<TestCurve>(&x))
                    .collect::<Vec<Vec<u8>>>()
                    .concat(),
            );
        }

        // We confirm that there are not repeated outputs.
        let mut sender_without_repetitions: HashSet<Vec<u8>> =
            HashSet::with_capacity(ot_width as usize);
        if !sender_outputs_as_bytes
            .into_iter()
            .all(move |x| sender_without_repetitions.insert(x))
        {
            panic!("Very improbable/unexpected: The sender got two identic outputs!");
        }

        let mut receiver_without_repetitions: HashSet<Vec<u8>> =
            HashSet::with_capacity(ot_width as usize);
        if !receiver_outputs_as_bytes
            .into_iter()
            .all(move |x| receiver_without_repetitions.insert(x))
        {
            panic!("Very improbable/unexpected: The receiver got two identic outputs!");
        }

        // This check guards against a past bug where an old implementation
        // generated repeated outputs for the sender.
    }

    /// Tests if sender-side OTE rejects malformed dimensions from deserialized input.
    #[test]
    fn test_ot_extension_sender_rejects_malformed_data_dimensions() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();

        // INITIALIZATION
        let (ot_sender, dlog_proof) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            OTESender::init_phase1::<TestCurve>(&session_id);
        let seed = ot_receiver.seed;

        let ote_receiver =
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &enc_proofs)
                .expect("OTE receiver init should succeed");
        let ote_sender = OTESender::init_phase2::<TestCurve>(
            &ot_receiver,
            &session_id,
            correlation,
            &vec_r,
            &dlog_proof,
        )
        .expect("OTE sender init should succeed");

        // PROTOCOL
        let ot_width = 1;
        let mut sender_input_correlations: Vec<Vec<Scalar>> = Vec::with_capacity(1);
        let mut correlation_row: Vec<Scalar> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            correlation_row.push(<Scalar as Field>::random(&mut rng::get_rng()));
        }
        sender_input_correlations.push(correlation_row);

        let mut receiver_choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            receiver_choice_bits.push(rng::get_rng().random());
        }
        let (_, data_to_sender) = ote_receiver
            .run_phase1(&session_id, &receiver_choice_bits)
            .expect("OTE receiver phase1 should succeed");

        let mut malformed = data_to_sender.clone();
        malformed.u.pop();

        let result = ote_sender.run::<TestCurve>(
            &session_id,
            ot_width,
            &sender_input_correlations,
            &malformed,
        );
        let error = result.expect_err("malformed OTE data should fail");
        assert!(error.description.contains("incorrect dimensions"));
    }

    /// Tests if receiver-side OTE rejects tau vectors with incorrect inner length.
    #[test]
    fn test_ot_extension_receiver_rejects_short_tau_rows() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();

        // INITIALIZATION
        let (ot_sender, _) = OTEReceiver::init_phase1::<TestCurve>(&session_id);
        let (ot_receiver, _, _, enc_proofs) = OTESender::init_phase1::<TestCurve>(&session_id);
        let seed = ot_receiver.seed;

        let ote_receiver =
            OTEReceiver::init_phase2::<TestCurve>(&ot_sender, &session_id, &seed, &enc_proofs)
                .expect("OTE receiver init should succeed");

        // Phase 1 - Receiver
        let mut receiver_choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        for _ in 0..BATCH_SIZE {
            receiver_choice_bits.push(rng::get_rng().random());
        }
        let (extended_seeds, data_to_sender) = ote_receiver
            .run_phase1(&session_id, &receiver_choice_bits)
            .expect("OTE receiver phase1 should succeed");

        // Phase 2 - Receiver with malformed sender data.
        let malformed_tau = vec![vec![<Scalar as Field>::ZERO; (BATCH_SIZE as usize) - 1]];
        let result = ote_receiver.run_phase2::<TestCurve>(
            &session_id,
            &data_to_sender.nonce,
            &[0u8; OTE_NONCE_LEN],
            1,
            &receiver_choice_bits,
            &extended_seeds,
            &malformed_tau,
        );
        let error = result.expect_err("short tau row should fail");
        assert!(error.description.contains("incorrect inner length"));
    }

    /// Tests if sender-side OTE rejects tampered u matrix rows.
    #[test]
    fn test_ot_extension_sender_rejects_tampered_u() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let ot_width = 2;
        let (ote_sender, sender_input_correlations, mut data_to_sender) =
            prepare_ote_sender_inputs(&session_id, ot_width);

        data_to_sender.u[0][0] ^= 1;

        let result = ote_sender.run::<TestCurve>(
            &session_id,
            ot_width,
            &sender_input_correlations,
            &data_to_sender,
        );
        let error = result.expect_err("tampered u should fail");
        assert!(error.description.contains("Receiver cheated in OTE"));
    }

    /// Tests if sender-side OTE rejects tampered verify_x.
    #[test]
    fn test_ot_extension_sender_rejects_tampered_verify_x() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        let ot_width = 2;
        let (ote_sender, sender_input_correlations, mut data_to_sender) =
            prepare_ote_sender_inputs(&session_id, ot_width);

        data_to_sender.verify_x[0] ^= 1;

        let result = ote_sender.run::<TestCurve>(
            &session_id,
            ot_width,
            &sender_input_correlations,
            &data_to_sender,
        );
        let error = result.expect_err("tampered verify_x should fail");
        assert!(error.description.contains("Receiver cheated in OTE"));
    }

    /// Tests if sender-side OTE rejects tampered verify_t entries.
    #[test]
    fn test_ot_extension_sender_rejects_tampered_verify_t() {
        let session_id = rng::get_rng().random::<[u8; crate::utilities::ID_LEN]>();
        // Exercise a different width than the other adversarial OTE tests.
        let ot_width = 1;
        let (ote_sender, sender_input_correlations, mut data_to_sender) =
            prepare_ote_sender_inputs(&session_id, ot_width);

        data_to_sender.verify_t[0][0] ^= 1;

        let result = ote_sender.run::<TestCurve>(
            &session_id,
            ot_width,
            &sender_input_correlations,
            &data_to_sender,
        );
        let error = result.expect_err("tampered verify_t should fail");
        assert!(error.description.contains("Receiver cheated in OTE"));
    }
}
