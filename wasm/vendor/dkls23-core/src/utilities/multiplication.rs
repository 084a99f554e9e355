//! Random Vector OLE functionality from `DKLs23`.
//!
//! This file realizes Functionality 3.5 in `DKLs23` (<https://eprint.iacr.org/2023/765.pdf>).
//! It is based upon the OT extension protocol [here](super::ot::extension).
//!
//! As `DKLs23` suggested, we use Protocol 1 of `DKLs19` (<https://eprint.iacr.org/2019/523.pdf>).
//! The first paper also gives some orientations on how to implement the protocol
//! in only two-rounds (see page 8 and Section 5.1) which we adopt here.

use ff::Field;
use std::marker::PhantomData;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::utilities::ct;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::DklsCurve;
use crate::utilities::hashes::{
    scalar_to_bytes, scalar_to_field_bytes, tagged_hash_as_scalar, HashOutput, TaggedHasher,
};
use crate::utilities::oracle_tags::{
    TAG_MUL_CHI_HAT, TAG_MUL_CHI_TILDE, TAG_MUL_GADGET, TAG_MUL_TRANSCRIPT,
    TAG_MUL_TRANSCRIPT_RECEIVER, TAG_MUL_VERIFY,
};
use crate::utilities::proofs::{DLogProof, EncProof};
use crate::utilities::rng;
use crate::utilities::scalar_sums::{self, Operand};

/// Each scalar prepared for [`scalar_sums::dot`].
fn operands<C: DklsCurve>(scalars: &[C::Scalar]) -> Vec<Operand<C>> {
    scalars.iter().map(Operand::new).collect()
}

#[cfg(feature = "serde")]
use super::ot::extension::{deserialize_vec_prg, serialize_vec_prg};
use crate::utilities::ot::base::{OTReceiver, OTSender, Seed};
use crate::utilities::ot::extension::{
    OTEDataToSender, OTEReceiver, OTESender, OteNonce, PRGOutput, BATCH_SIZE, KAPPA,
};
use crate::utilities::ot::ErrorOT;
use rand::RngExt;

/// Constant `L` from Functionality 3.5 in `DKLs23` used for signing in Protocol 3.6.
pub const L: u8 = 2;

/// This represents the number of times the OT extension protocol will be
/// called using the same value chosen by the receiver.
pub const OT_WIDTH: u8 = 2 * L;

/// Sender's data and methods for the multiplication protocol.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "C::Scalar: serde::Serialize",
        deserialize = "C::Scalar: serde::Deserialize<'de>"
    ))
)]
pub struct MulSender<C: DklsCurve> {
    pub public_gadget: Vec<C::Scalar>,
    pub ote_sender: OTESender,
    #[zeroize(skip)]
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) _curve: PhantomData<C>,
}

/// Receiver's data and methods for the multiplication protocol.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "C::Scalar: serde::Serialize",
        deserialize = "C::Scalar: serde::Deserialize<'de>"
    ))
)]
pub struct MulReceiver<C: DklsCurve> {
    pub public_gadget: Vec<C::Scalar>,
    pub ote_receiver: OTEReceiver,
    #[zeroize(skip)]
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) _curve: PhantomData<C>,
}

/// Data transmitted by the sender to the receiver after his phase.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "C::Scalar: serde::Serialize",
        deserialize = "C::Scalar: serde::Deserialize<'de>"
    ))
)]
pub struct MulDataToReceiver<C: DklsCurve> {
    pub vector_of_tau: Vec<Vec<C::Scalar>>,
    /// The sender's fresh salt for the OT extension's output randomization.
    pub ote_salt: OteNonce,
    pub verify_r: HashOutput,
    pub verify_u: Vec<C::Scalar>,
    pub gamma_sender: Vec<C::Scalar>,
}

/// Data kept by the receiver between phases.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "C::Scalar: serde::Serialize",
        deserialize = "C::Scalar: serde::Deserialize<'de>"
    ))
)]
pub struct MulDataToKeepReceiver<C: DklsCurve> {
    pub b: C::Scalar,
    pub choice_bits: Vec<bool>,
    #[cfg_attr(
        feature = "serde",
        serde(
            serialize_with = "serialize_vec_prg",
            deserialize_with = "deserialize_vec_prg"
        )
    )]
    pub extended_seeds: Vec<PRGOutput>,
    /// Digest of the receiver's OT extension message from Step 3. The
    /// shared random values of Step 4 are derived from it, the sender's salt
    /// and `tau`.
    pub ote_transcript: HashOutput,
    /// The receiver's OT extension nonce from Step 3, needed to finish it.
    pub ote_nonce: OteNonce,
    #[zeroize(skip)]
    #[cfg_attr(feature = "serde", serde(skip))]
    _curve: PhantomData<C>,
}

/// Represents an error during the multiplication protocol.
#[derive(Debug)]
pub struct ErrorMul {
    pub description: String,
}

impl ErrorMul {
    /// Creates an instance of `ErrorMul`.
    #[must_use]
    pub fn new(description: &str) -> ErrorMul {
        ErrorMul {
            description: String::from(description),
        }
    }
}

/// The receiver's transcript hash up to its OT extension message's matrix
/// `u` (`u_len` bytes), which the extension then feeds to it (Tessera fork:
/// in a spare lane of its own hashes of `u`).
fn receiver_transcript_start(session_id: &[u8], nonce: &OteNonce, u_len: usize) -> TaggedHasher {
    let mut h = TaggedHasher::new(TAG_MUL_TRANSCRIPT_RECEIVER);
    h.component(session_id).component(nonce).component_len(u_len);
    h
}

/// Digest of the receiver's OT extension message from Step 3: the rest of
/// the message after `u` (Tessera fork: fed piece by piece, not copied).
fn receiver_transcript_finish(mut h: TaggedHasher, data: &OTEDataToSender) -> HashOutput {
    h.component(&data.verify_x);
    h.component_len(data.verify_t.iter().map(|row| row.len()).sum());
    for row in &data.verify_t {
        h.piece(row);
    }
    h.finish()
}

/// `tagged_hash(TAG_MUL_VERIFY, [session_id, r])` where `r` is the
/// concatenation of the big-endian encodings of `entries` (Tessera fork:
/// streamed, no per-scalar vectors).
fn verify_r_hash<C: DklsCurve>(session_id: &[u8], count: usize, entries: impl Iterator<Item = C::Scalar>) -> HashOutput {
    let scalar_len = elliptic_curve::FieldBytes::<C>::default().len();
    let mut h = TaggedHasher::new(TAG_MUL_VERIFY);
    h.component(session_id).component_len(count * scalar_len);
    let mut fed = 0usize;
    for entry in entries {
        h.piece(&scalar_to_field_bytes::<C>(&entry));
        fed += 1;
    }
    debug_assert_eq!(fed, count);
    h.finish()
}

/// Computes the shared random values of Step 4.
///
/// They are derived from the whole transcript of Step 3, including the
/// sender's salt and OT corrections `tau` (DKLs19, Protocol 9).
fn shared_random_values<C: DklsCurve>(
    session_id: &[u8],
    receiver_transcript: &HashOutput,
    ote_salt: &OteNonce,
    vector_of_tau: &[Vec<C::Scalar>],
) -> (Vec<C::Scalar>, Vec<C::Scalar>) {
    // Tessera fork: each row of tau is one component, fed scalar by scalar.
    let scalar_len = elliptic_curve::FieldBytes::<C>::default().len();
    let mut h = TaggedHasher::new(TAG_MUL_TRANSCRIPT);
    h.component(session_id)
        .component(receiver_transcript)
        .component(ote_salt);
    for row in vector_of_tau {
        h.component_len(row.len() * scalar_len);
        for tau in row {
            h.piece(&scalar_to_field_bytes::<C>(tau));
        }
    }
    let transcript = h.finish();

    // At this point, the constant L from DKLs23 behaves as the
    // constant l from DKLs19.
    let mut chi_tilde: Vec<C::Scalar> = Vec::with_capacity(L as usize);
    let mut chi_hat: Vec<C::Scalar> = Vec::with_capacity(L as usize);
    for i in 0..L {
        chi_tilde.push(tagged_hash_as_scalar::<C>(
            TAG_MUL_CHI_TILDE,
            &[session_id, &i.to_be_bytes(), &transcript],
        ));
        chi_hat.push(tagged_hash_as_scalar::<C>(
            TAG_MUL_CHI_HAT,
            &[session_id, &i.to_be_bytes(), &transcript],
        ));
    }

    (chi_tilde, chi_hat)
}

// We implement the protocol.
impl<C: DklsCurve> MulSender<C> {
    /// Checks the dimensions of this (possibly deserialized) state, so that
    /// a corrupted local state is reported as such instead of panicking or
    /// failing a check that blames the counterparty.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the public gadget or the OT extension state has
    /// incorrect dimensions.
    pub fn check_state(&self) -> Result<(), ErrorMul> {
        if self.public_gadget.len() != BATCH_SIZE as usize {
            return Err(ErrorMul::new("Public gadget has incorrect length"));
        }
        self.ote_sender
            .check_state()
            .map_err(|error| ErrorMul::new(&error.description))
    }

    // INITIALIZE

    // As in DKLs19 (https://eprint.iacr.org/2019/523.pdf), the initialization of the
    // multiplication protocol is the same as for our OT extension protocol.
    // Thus, we repeat the phases from the file ot_extension.rs.
    // The only difference is that we include the sampling for the public gadget vector.

    /// Starts the initialization of the protocol.
    ///
    /// See [`OTESender`] for explanation.
    #[must_use]
    pub fn init_phase1(
        session_id: &[u8],
    ) -> (OTReceiver, Vec<bool>, Vec<C::Scalar>, Vec<EncProof<C>>) {
        OTESender::init_phase1::<C>(session_id)
    }

    /// Finishes the initialization of the protocol.
    ///
    /// The inputs here come from [`OTESender`],
    /// except for `nonce`, which was sent by the receiver for the
    /// computation of the public gadget vector.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the initialization fails (see the file above).
    pub fn init_phase2(
        ot_receiver: &OTReceiver,
        session_id: &[u8],
        correlation: Vec<bool>,
        vec_r: &[C::Scalar],
        dlog_proof: &DLogProof<C>,
        nonce: &C::Scalar,
    ) -> Result<MulSender<C>, ErrorOT> {
        let ote_sender =
            OTESender::init_phase2::<C>(ot_receiver, session_id, correlation, vec_r, dlog_proof)?;

        // We compute the public gadget vector from the nonce, in the same way as in
        // https://gitlab.com/neucrypt/mpecdsa/-/blob/release/src/mul.rs.
        let mut public_gadget: Vec<C::Scalar> = Vec::with_capacity(BATCH_SIZE as usize);
        let mut counter = *nonce;
        for _ in 0..BATCH_SIZE {
            counter += <C::Scalar as Field>::ONE;
            let counter_bytes = scalar_to_bytes::<C>(&counter);
            public_gadget.push(tagged_hash_as_scalar::<C>(
                TAG_MUL_GADGET,
                &[session_id, &counter_bytes],
            ));
        }

        let mul_sender = MulSender {
            public_gadget,
            ote_sender,
            _curve: PhantomData,
        };

        Ok(mul_sender)
    }

    // PROTOCOL
    // We now follow the steps of Protocol 1 in DKLs19, implementing
    // the suggestions of DKLs23 as well.

    // It is worth pointing out that the parameter l from DKLs19 is not
    // the same as the parameter l from DKLs23. To highlight the difference,
    // we will always denote the DKLs23 parameter by a capital L.

    /// Runs the sender's protocol.
    ///
    /// Input: [`L`] instances of `Scalar` and data coming from receiver.
    ///
    /// Output: Protocol's output and data to receiver.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the underlying OT extension fails (see [`OTESender`]).
    pub fn run(
        &self,
        session_id: &[u8],
        input: &[C::Scalar],
        data: &OTEDataToSender,
    ) -> Result<(Vec<C::Scalar>, MulDataToReceiver<C>), ErrorMul> {
        self.check_state()?;
        if input.len() != L as usize {
            return Err(ErrorMul::new("Sender input has incorrect length"));
        }

        // RANDOMIZED MULTIPLICATION

        // Step 1 - No action for the sender.

        // Step 2 - We sample the pads a_tilde and the check values a_hat.
        // We also set the correlation for the OT protocol.

        // There are L pads and L check_values.
        let mut a_tilde: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        let mut a_hat: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        for _ in 0..L {
            a_tilde.push(<C::Scalar as Field>::random(&mut rng::get_rng()));
            a_hat.push(<C::Scalar as Field>::random(&mut rng::get_rng()));
        }

        // For the correlation, let us first explain the case L = 1.
        // In this case, there are actually two correlations: one is
        // made with BATCH_SIZE copies of a_tilde and the other with
        // BATCH_SIZE copies of a_hat. We use two correlations in order
        // to get two outputs, as in DKLs19. Both of them will be used
        // in the OT extension with the same choice bits from the receiver.
        //
        // Now, by DKLs23, we hardcoded l = 1 in DKLs19. At the same time,
        // DKLs23 has its parameter L. To adapt the old protocol, we repeat
        // Step 2 in DKLs19 L times, so in the end we get 2*L correlations.
        let mut correlation_tilde: Vec<Vec<C::Scalar>> = Vec::with_capacity(L as usize);
        let mut correlation_hat: Vec<Vec<C::Scalar>> = Vec::with_capacity(L as usize);
        for i in 0..L {
            let correlation_tilde_i = vec![a_tilde[i as usize]; BATCH_SIZE as usize];
            let correlation_hat_i = vec![a_hat[i as usize]; BATCH_SIZE as usize];

            correlation_tilde.push(correlation_tilde_i);
            correlation_hat.push(correlation_hat_i);
        }

        // We gather the correlations.
        let correlations = [correlation_tilde, correlation_hat].concat();

        // Step 3 - We execute the OT protocol.

        // It is here that we use the "forced-reuse" technique that
        // DKLs23 mentions on page 8. As they say: "Alice performs the
        // steps of the protocol for each input in her vector, but uses
        // a single batch of Bob's OT instances for all of them,
        // concatenating the corresponding OT payloads to form one batch
        // of payloads with lengths proportionate to her input vector length."
        //
        // Hence, the OT extension protocol will be executed 2*L times with
        // the 2*L correlations from the previous step. The implementation
        // in the file ot/extension.rs already deals with these repetitions,
        // we just have to specify this quantity (the "OT width").

        let ote_sid = ["OT Extension protocol".as_bytes(), session_id].concat();

        // The digest of the receiver's message (Step 4) hashes u in a spare
        // lane of the extension's own hashes of u.
        let mut transcript = receiver_transcript_start(
            session_id,
            &data.nonce,
            data.u.iter().map(|row| row.len()).sum(),
        );
        let result = self.ote_sender.run_absorbing::<C>(
            &ote_sid,
            OT_WIDTH,
            &correlations,
            data,
            Some(&mut transcript),
        );

        let ot_outputs: Vec<Vec<C::Scalar>>;
        let vector_of_tau: Vec<Vec<C::Scalar>>; // Used by the receiver to finish the OT protocol.
        let ote_salt: OteNonce; // Likewise.
        match result {
            Ok((out, tau, salt)) => {
                (ot_outputs, vector_of_tau, ote_salt) = (out, tau, salt);
            }
            Err(error) => {
                return Err(ErrorMul::new(&format!(
                    "OTE error during multiplication: {:?}",
                    error.description
                )));
            }
        }

        // This is the sender's output from the OT protocol with the notation from DKLs19.
        let (z_tilde, z_hat) = ot_outputs.split_at(L as usize);

        // Step 4 - We compute the shared random values from the
        // transcript of Step 3, including tau.
        let (chi_tilde, chi_hat) = shared_random_values::<C>(
            session_id,
            &receiver_transcript_finish(transcript, data),
            &ote_salt,
            &vector_of_tau,
        );

        // Step 5 - We compute the verification value.
        // We use Section 5.1 in DKLs23 for an optimization of the
        // protocol in DKLs19.

        // We have to compute a matrix r and a vector u.
        // Only a hash of r will be sent to the receiver,
        // so we'll compute r directly in bytes.
        // The variable below saves each row of r in bytes.
        // Tessera fork: the rows of r are hashed as they are computed.
        let mut verify_u: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        for i in 0..L {
            // We compute the i-th entry of the vector u.
            let entry = (chi_tilde[i as usize] * a_tilde[i as usize])
                + (chi_hat[i as usize] * a_hat[i as usize]);
            verify_u.push(entry);
        }
        // Tessera fork: the sums of products below are reduced once each
        // (scalar_sums), from operands prepared once.
        let (chi_tilde, chi_hat) = (operands::<C>(&chi_tilde), operands::<C>(&chi_hat));
        let z_tilde: Vec<Vec<Operand<C>>> = z_tilde.iter().map(|row| operands::<C>(row)).collect();
        let z_hat: Vec<Vec<Operand<C>>> = z_hat.iter().map(|row| operands::<C>(row)).collect();
        let r_entries = (0..L as usize).flat_map(|i| {
            let (chi_tilde, chi_hat, z_tilde, z_hat) = (&chi_tilde, &chi_hat, &z_tilde, &z_hat);
            (0..BATCH_SIZE as usize).map(move |j| {
                scalar_sums::dot::<C>([(&chi_tilde[i], &z_tilde[i][j]), (&chi_hat[i], &z_hat[i][j])])
            })
        });

        // We transform r into a hash.
        let verify_r: HashOutput =
            verify_r_hash::<C>(session_id, L as usize * BATCH_SIZE as usize, r_entries);

        // Step 6 - No action for the sender.

        // INPUT AND ADJUSTMENT

        // Step 7 - We compute the difference gamma_A.

        let mut gamma: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        for i in 0..L {
            let difference = input[i as usize] - a_tilde[i as usize];
            gamma.push(difference);
        }

        // Step 8 - Finally, we compute the protocol's output.
        // Recall that we hardcoded gamma_B = 0.

        let gadget = operands::<C>(&self.public_gadget);
        let mut output: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        for i in 0..L {
            let summation = scalar_sums::dot::<C>(gadget.iter().zip(&z_tilde[i as usize]));
            output.push(summation);
        }

        // We now return all values.

        let data_to_receiver = MulDataToReceiver {
            vector_of_tau,
            ote_salt,
            verify_r,
            verify_u,
            gamma_sender: gamma,
        };

        Ok((output, data_to_receiver))
    }
}

impl<C: DklsCurve> MulReceiver<C> {
    /// Checks the dimensions of this (possibly deserialized) state and, if
    /// given, of the data kept from phase 1.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the public gadget, the OT extension state or the
    /// kept data has incorrect dimensions.
    pub fn check_state(
        &self,
        data_kept: Option<&MulDataToKeepReceiver<C>>,
    ) -> Result<(), ErrorMul> {
        if self.public_gadget.len() != BATCH_SIZE as usize {
            return Err(ErrorMul::new("Public gadget has incorrect length"));
        }
        self.ote_receiver
            .check_state()
            .map_err(|error| ErrorMul::new(&error.description))?;
        if let Some(kept) = data_kept {
            if kept.choice_bits.len() != BATCH_SIZE as usize
                || kept.extended_seeds.len() != KAPPA as usize
            {
                return Err(ErrorMul::new(
                    "Kept multiplication data has incorrect dimensions",
                ));
            }
        }
        Ok(())
    }

    // INITIALIZE

    // As in DKLs19 (https://eprint.iacr.org/2019/523.pdf), the initialization of the
    // multiplication protocol is the same as for our OT extension protocol.
    // Thus, we repeat the phases from the file ot_extension.rs.
    // The only difference is that we include the sampling for the public gadget vector.

    /// Starts the initialization of the protocol.
    ///
    /// See [`OTEReceiver`] for explanation.
    ///
    /// The `Scalar` does not come from the OT extension. It is just
    /// a nonce for the generation of the public gadget vector. It should
    /// be kept for the next phase and transmitted to the sender.
    #[must_use]
    pub fn init_phase1(session_id: &[u8]) -> (OTSender<C>, DLogProof<C>, C::Scalar) {
        let (ot_sender, proof) = OTEReceiver::init_phase1::<C>(session_id);

        // For the choice of the public gadget vector, we will use the same approach
        // as in https://gitlab.com/neucrypt/mpecdsa/-/blob/release/src/mul.rs.
        // We sample a nonce that will be used by both parties to compute a common vector.
        let nonce = <C::Scalar as Field>::random(&mut rng::get_rng());

        (ot_sender, proof, nonce)
    }

    /// Finishes the initialization of the protocol.
    ///
    /// The inputs here come from [`OTEReceiver`],
    /// except for `nonce`, which was generated during the previous phase.
    ///
    /// # Errors
    ///
    /// Will return `Err` if the initialization fails (see the file above).
    pub fn init_phase2(
        ot_sender: &OTSender<C>,
        session_id: &[u8],
        seed: &Seed,
        enc_proofs: &[EncProof<C>],
        nonce: &C::Scalar,
    ) -> Result<MulReceiver<C>, ErrorOT> {
        let ote_receiver = OTEReceiver::init_phase2::<C>(ot_sender, session_id, seed, enc_proofs)?;

        // We compute the public gadget vector from the nonce, in the same way as in
        // https://gitlab.com/neucrypt/mpecdsa/-/blob/release/src/mul.rs.
        let mut public_gadget: Vec<C::Scalar> = Vec::with_capacity(BATCH_SIZE as usize);
        let mut counter = *nonce;
        for _ in 0..BATCH_SIZE {
            counter += <C::Scalar as Field>::ONE;
            let counter_bytes = scalar_to_bytes::<C>(&counter);
            public_gadget.push(tagged_hash_as_scalar::<C>(
                TAG_MUL_GADGET,
                &[session_id, &counter_bytes],
            ));
        }

        let mul_receiver = MulReceiver {
            public_gadget,
            ote_receiver,
            _curve: PhantomData,
        };

        Ok(mul_receiver)
    }

    // PROTOCOL
    // We now follow the steps of Protocol 1 in DKLs19, implementing
    // the suggestions of DKLs23 as well.

    // It is worth pointing out that the parameter l from DKLs19 is not
    // the same as the parameter l from DKLs23. To highlight the difference,
    // we will always denote the DKLs23 parameter by a capital L.

    /// Runs the first phase of the receiver's protocol.
    ///
    /// Note that it is the receiver who starts the multiplication protocol.
    ///
    /// The random factor coming from the protocol is already returned here.
    /// There are two other outputs: one to be kept for the next phase
    /// and one to be sent to the sender (related to the OT extension).
    ///
    /// # Errors
    ///
    /// Will return `Err` if the underlying OTE receiver phase 1 fails.
    pub fn run_phase1(
        &self,
        session_id: &[u8],
    ) -> Result<(C::Scalar, MulDataToKeepReceiver<C>, OTEDataToSender), ErrorMul> {
        self.check_state(None)?;

        // RANDOMIZED MULTIPLICATION

        // Step 1 - We sample the choice bits and compute the pad b_tilde.

        // Since we are hardcoding gamma_B = 0, b_tilde will serve as the
        // number b that the receiver inputs into the protocol. Hence, we
        // will denote b_tilde simply as b.

        let mut choice_bits: Vec<bool> = Vec::with_capacity(BATCH_SIZE as usize);
        let mut b = <C::Scalar as Field>::ZERO;
        for i in 0..BATCH_SIZE {
            let current_bit: bool = rng::get_rng().random();
            b += C::Scalar::conditional_select(
                &<C::Scalar as Field>::ZERO,
                &self.public_gadget[i as usize],
                ct::choice(current_bit),
            );
            choice_bits.push(current_bit);
        }

        // Step 2 - No action for the receiver.

        // Step 3 (Incomplete) - We start the OT extension protocol.

        // Note that this protocol has one more round, so the receiver
        // cannot get the output immediately. This will only be computed
        // at the beginning of the next phase for the receiver.

        let ote_sid = ["OT Extension protocol".as_bytes(), session_id].concat();

        // Step 4's digest of our message hashes u in a spare lane of the
        // extension's own hashes of u.
        let start = |nonce: &OteNonce| {
            receiver_transcript_start(session_id, nonce, KAPPA as usize * core::mem::size_of::<PRGOutput>())
        };
        let (extended_seeds, data_to_sender, transcript) =
            match self.ote_receiver.run_phase1_absorbing(&ote_sid, &choice_bits, Some(&start)) {
                Ok(values) => values,
                Err(error) => {
                    return Err(ErrorMul::new(&format!(
                        "OTE error during multiplication: {:?}",
                        error.description
                    )));
                }
            };

        // Step 4 (Incomplete) - The shared random values also depend on
        // tau, which we have not received yet, so we keep a digest of our
        // message for now.
        let ote_transcript = receiver_transcript_finish(
            transcript.expect("the extension returns the transcript it was given"),
            &data_to_sender,
        );

        // Step 5 - No action for the receiver, but he will receive
        // some values for the next step, so we stop here.

        // We now return all values.

        let data_to_keep = MulDataToKeepReceiver {
            b,
            choice_bits,
            extended_seeds,
            ote_transcript,
            ote_nonce: data_to_sender.nonce,
            _curve: PhantomData,
        };

        Ok((b, data_to_keep, data_to_sender))
    }

    /// Finishes the receiver's protocol and gives his output.
    ///
    /// The inputs are the data kept from the previous phase and
    /// the data transmitted by the sender.
    ///
    /// # Errors
    ///
    /// Will return `Err` if received vectors have incorrect dimensions, if the
    /// consistency check using the sender values fails or if the underlying OT
    /// extension fails (see [`OTEReceiver`]).
    pub fn run_phase2(
        &self,
        session_id: &[u8],
        data_kept: &MulDataToKeepReceiver<C>,
        data_received: &MulDataToReceiver<C>,
    ) -> Result<Vec<C::Scalar>, ErrorMul> {
        self.check_state(Some(data_kept))?;
        if data_received.verify_u.len() != L as usize
            || data_received.gamma_sender.len() != L as usize
        {
            return Err(ErrorMul::new("Received data has incorrect dimensions"));
        }

        // Step 3 (Conclusion) - We conclude the OT protocol.

        // The sender applied the protocol 2*L times with our data,
        // so we will have 2*L outputs (we refer to this number as
        // the "OT width").

        let ote_sid = ["OT Extension protocol".as_bytes(), session_id].concat();

        let result = self.ote_receiver.run_phase2::<C>(
            &ote_sid,
            &data_kept.ote_nonce,
            &data_received.ote_salt,
            OT_WIDTH,
            &data_kept.choice_bits,
            &data_kept.extended_seeds,
            &data_received.vector_of_tau,
        );

        let ot_outputs: Vec<Vec<C::Scalar>> = match result {
            Ok(out) => out,
            Err(error) => {
                return Err(ErrorMul::new(&format!(
                    "OTE error during multiplication: {:?}",
                    error.description
                )));
            }
        };

        // This is the receiver's output from the OT protocol with the notation from DKLs19.
        let (z_tilde, z_hat) = ot_outputs.split_at(L as usize);

        // Step 4 (Conclusion) - We compute the shared random values.
        let (chi_tilde, chi_hat) = shared_random_values::<C>(
            session_id,
            &data_kept.ote_transcript,
            &data_received.ote_salt,
            &data_received.vector_of_tau,
        );

        // Step 6 - We verify if the data sent by the sender is consistent.

        // We use Section 5.1 in DKLs23 for an optimization of the
        // protocol in DKLs19.

        // We have to compute a matrix r and a vector u.
        // Only a hash of r will be sent to us so we'll
        // reconstruct r directly in bytes.
        // The variable below saves each row of r in bytes.
        // Tessera fork: the rows of r are hashed as they are computed.
        // Tessera fork: `u_i * bit_j - (chi~ * z~ + chi^ * z^)`, the sum of
        // products reduced once (scalar_sums), from operands prepared once.
        let (chi_tilde, chi_hat) = (operands::<C>(&chi_tilde), operands::<C>(&chi_hat));
        let z_tilde: Vec<Vec<Operand<C>>> = z_tilde.iter().map(|row| operands::<C>(row)).collect();
        let z_hat: Vec<Vec<Operand<C>>> = z_hat.iter().map(|row| operands::<C>(row)).collect();
        let r_entries = (0..L as usize).flat_map(|i| {
            let (chi_tilde, chi_hat, z_tilde, z_hat) = (&chi_tilde, &chi_hat, &z_tilde, &z_hat);
            (0..BATCH_SIZE as usize).map(move |j| {
                // The entry depends on the choice bits.
                C::Scalar::conditional_select(
                    &<C::Scalar as Field>::ZERO,
                    &data_received.verify_u[i],
                    ct::choice(data_kept.choice_bits[j]),
                ) - scalar_sums::dot::<C>([
                    (&chi_tilde[i], &z_tilde[i][j]),
                    (&chi_hat[i], &z_hat[i][j]),
                ])
            })
        });

        // We transform r into a hash.
        let expected_verify_r: HashOutput =
            verify_r_hash::<C>(session_id, L as usize * BATCH_SIZE as usize, r_entries);

        // Constant-time comparison to prevent timing side-channels that
        // could help an adversary forge valid consistency-check values.
        if !bool::from(data_received.verify_r.ct_eq(&expected_verify_r)) {
            return Err(ErrorMul::new(
                "Sender cheated in multiplication protocol: Consistency check failed!",
            ));
        }

        // INPUT AND ADJUSTMENT

        // Step 7 - No action for the receiver.
        // (Remember that we hardcoded gamma_B = 0.)

        // Step 8 - Finally, we compute the protocol's output.
        // Recall that we hardcoded gamma_B = 0.

        let gadget = operands::<C>(&self.public_gadget);
        let mut output: Vec<C::Scalar> = Vec::with_capacity(L as usize);
        for i in 0..L {
            let summation = scalar_sums::dot::<C>(gadget.iter().zip(&z_tilde[i as usize]));
            let final_sum = (data_kept.b * data_received.gamma_sender[i as usize]) + summation;
            output.push(final_sum);
        }

        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elliptic_curve::CurveArithmetic;
    use k256::Secp256k1;
    use rand::RngExt;

    type TestCurve = Secp256k1;
    type Scalar = <TestCurve as CurveArithmetic>::Scalar;

    fn prepare_mul_receiver_inputs(
        session_id: &[u8; 32],
    ) -> (
        MulReceiver<TestCurve>,
        MulDataToKeepReceiver<TestCurve>,
        MulDataToReceiver<TestCurve>,
    ) {
        // INITIALIZATION
        let (ot_sender, dlog_proof, nonce) = MulReceiver::<TestCurve>::init_phase1(session_id);
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            MulSender::<TestCurve>::init_phase1(session_id);
        let seed = ot_receiver.seed;

        let mul_receiver =
            match MulReceiver::init_phase2(&ot_sender, session_id, &seed, &enc_proofs, &nonce) {
                Ok(r) => r,
                Err(error) => {
                    panic!("Two-party multiplication error: {:?}", error.description);
                }
            };
        let mul_sender = match MulSender::init_phase2(
            &ot_receiver,
            session_id,
            correlation,
            &vec_r,
            &dlog_proof,
            &nonce,
        ) {
            Ok(s) => s,
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        };

        // PROTOCOL
        let mut sender_input: Vec<Scalar> = Vec::with_capacity(L as usize);
        for _ in 0..L {
            sender_input.push(Scalar::random(&mut rng::get_rng()));
        }

        let (_, data_to_keep, data_to_sender) = mul_receiver
            .run_phase1(session_id)
            .expect("mul receiver phase1 should succeed");
        let (_, data_to_receiver) = match mul_sender.run(session_id, &sender_input, &data_to_sender)
        {
            Ok(result) => result,
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        };

        (mul_receiver, data_to_keep, data_to_receiver)
    }

    /// Tests if the outputs for the multiplication protocol
    /// satisfy the relations they are supposed to satisfy.
    #[test]
    fn test_multiplication() {
        let session_id = rng::get_rng().random::<[u8; 32]>();

        // INITIALIZATION

        // Phase 1 - Receiver
        let (ot_sender, dlog_proof, nonce) = MulReceiver::<TestCurve>::init_phase1(&session_id);

        // Phase 1 - Sender
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            MulSender::<TestCurve>::init_phase1(&session_id);

        // Communication round
        // OT: Exchange the proofs and the seed.
        // Mul: Exchange the nonce.
        let seed = ot_receiver.seed;

        // Phase 2 - Receiver
        let result_receiver =
            MulReceiver::init_phase2(&ot_sender, &session_id, &seed, &enc_proofs, &nonce);
        let mul_receiver = match result_receiver {
            Ok(r) => r,
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        };

        // Phase 2 - Sender
        let result_sender = MulSender::init_phase2(
            &ot_receiver,
            &session_id,
            correlation,
            &vec_r,
            &dlog_proof,
            &nonce,
        );
        let mul_sender = match result_sender {
            Ok(s) => s,
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        };

        // PROTOCOL

        // Sampling the choices.
        let mut sender_input: Vec<Scalar> = Vec::with_capacity(L as usize);
        for _ in 0..L {
            sender_input.push(Scalar::random(&mut rng::get_rng()));
        }

        // Phase 1 - Receiver
        let (receiver_random, data_to_keep, data_to_sender) = mul_receiver
            .run_phase1(&session_id)
            .expect("mul receiver phase1 should succeed");

        // Communication round 1
        // Receiver keeps receiver_random (part of the output)
        // and data_to_keep, and transmits data_to_sender.

        // Unique phase - Sender
        let sender_result = mul_sender.run(&session_id, &sender_input, &data_to_sender);

        let sender_output: Vec<Scalar>;
        let data_to_receiver: MulDataToReceiver<TestCurve>;
        match sender_result {
            Ok((output, data)) => {
                sender_output = output;
                data_to_receiver = data;
            }
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        }

        // Communication round 2
        // Sender transmits data_to_receiver.

        // Phase 2 - Receiver
        let receiver_result =
            mul_receiver.run_phase2(&session_id, &data_to_keep, &data_to_receiver);

        let receiver_output = match receiver_result {
            Ok(output) => output,
            Err(error) => {
                panic!("Two-party multiplication error: {:?}", error.description);
            }
        };

        // Verification that the protocol did what it should do.
        for i in 0..L {
            // The sum of the outputs should be equal to the product of the
            // sender's chosen scalar and the receiver's random scalar.
            let sum = sender_output[i as usize] + receiver_output[i as usize];
            assert_eq!(sum, sender_input[i as usize] * receiver_random);
        }
    }

    /// Tests if receiver-side multiplication rejects malformed vector lengths.
    #[test]
    fn test_multiplication_receiver_rejects_wrong_verify_vector_lengths() {
        let session_id = rng::get_rng().random::<[u8; 32]>();

        // INITIALIZATION
        let (ot_sender, dlog_proof, nonce) = MulReceiver::<TestCurve>::init_phase1(&session_id);
        let (ot_receiver, correlation, vec_r, enc_proofs) =
            MulSender::<TestCurve>::init_phase1(&session_id);
        let seed = ot_receiver.seed;

        let mul_receiver =
            MulReceiver::init_phase2(&ot_sender, &session_id, &seed, &enc_proofs, &nonce)
                .expect("mul receiver init should succeed");
        let mul_sender = MulSender::init_phase2(
            &ot_receiver,
            &session_id,
            correlation,
            &vec_r,
            &dlog_proof,
            &nonce,
        )
        .expect("mul sender init should succeed");

        // PROTOCOL
        let mut sender_input: Vec<Scalar> = Vec::with_capacity(L as usize);
        for _ in 0..L {
            sender_input.push(Scalar::random(&mut rng::get_rng()));
        }

        let (_, data_to_keep, data_to_sender) = mul_receiver
            .run_phase1(&session_id)
            .expect("mul receiver phase1 should succeed");
        let (_, mut data_to_receiver) =
            match mul_sender.run(&session_id, &sender_input, &data_to_sender) {
                Ok(result) => result,
                Err(error) => {
                    panic!("Two-party multiplication error: {:?}", error.description);
                }
            };

        data_to_receiver.verify_u.pop();
        let result = mul_receiver.run_phase2(&session_id, &data_to_keep, &data_to_receiver);
        let error = result.expect_err("wrong verify_u length should fail");
        assert!(error.description.contains("incorrect dimensions"));
    }

    /// Tests if the receiver rejects a tampered verify_r hash.
    #[test]
    fn test_multiplication_rejects_tampered_verify_r() {
        let session_id = rng::get_rng().random::<[u8; 32]>();
        let (mul_receiver, data_to_keep, mut data_to_receiver) =
            prepare_mul_receiver_inputs(&session_id);

        data_to_receiver.verify_r[0] ^= 1;

        let result = mul_receiver.run_phase2(&session_id, &data_to_keep, &data_to_receiver);
        let error = result.expect_err("tampered verify_r should fail");
        assert!(error.description.contains("Consistency check failed"));
    }

    /// Tests if the receiver rejects tampered verify_u entries.
    #[test]
    fn test_multiplication_rejects_tampered_verify_u() {
        let session_id = rng::get_rng().random::<[u8; 32]>();
        let (mul_receiver, data_to_keep, mut data_to_receiver) =
            prepare_mul_receiver_inputs(&session_id);

        data_to_receiver.verify_u[0] += Scalar::ONE;

        let result = mul_receiver.run_phase2(&session_id, &data_to_keep, &data_to_receiver);
        let error = result.expect_err("tampered verify_u should fail");
        assert!(error.description.contains("Consistency check failed"));
    }

    /// Tests that a tampered sender salt is rejected: it changes the
    /// receiver's OT outputs and the shared random values.
    #[test]
    fn test_multiplication_rejects_tampered_ote_salt() {
        let session_id = rng::get_rng().random::<[u8; 32]>();
        let (mul_receiver, data_to_keep, mut data_to_receiver) =
            prepare_mul_receiver_inputs(&session_id);
        data_to_receiver.ote_salt[0] ^= 1;

        let error = mul_receiver
            .run_phase2(&session_id, &data_to_keep, &data_to_receiver)
            .expect_err("tampered salt must be rejected");
        assert!(error.description.contains("Consistency check failed"));
    }

    /// Tests that tampering with a single tau entry is rejected even where
    /// it does not affect the receiver's OT output.
    ///
    /// The shared random values are derived from tau, so a changed tau
    /// changes them and the consistency check fails.
    #[test]
    fn test_multiplication_rejects_tampered_tau_vectors() {
        let session_id = rng::get_rng().random::<[u8; 32]>();
        let (mul_receiver, data_to_keep, data_to_receiver) =
            prepare_mul_receiver_inputs(&session_id);

        assert!(mul_receiver
            .run_phase2(&session_id, &data_to_keep, &data_to_receiver)
            .is_ok());

        // A column the receiver did not select: tau there does not change
        // the receiver's OT output, so only its effect on the shared random
        // values can make the check fail.
        let column = data_to_keep
            .choice_bits
            .iter()
            .position(|bit| !bit)
            .expect("some choice bit is 0");
        for row in 0..OT_WIDTH as usize {
            let mut tampered = data_to_receiver.clone();
            tampered.vector_of_tau[row][column] += Scalar::ONE;

            let error = mul_receiver
                .run_phase2(&session_id, &data_to_keep, &tampered)
                .expect_err("tampered tau must be rejected");
            assert!(error.description.contains("Consistency check failed"));
        }
    }
}
