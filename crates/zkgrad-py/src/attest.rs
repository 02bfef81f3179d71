//! Accuracy attestations (`zkgrad_core::data::attest`): prove with a model on a committed
//! dataset, verify against a verifying key and the dataset's public commitment.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zkgrad_core::data::{self, Attestation, DatasetCommitment};
use zkgrad_core::epoch::EpochCertificate;

use crate::{InvalidProof, ModelError, NativeModel, NativeVerifyingKey, guarded, int_array};

/// A rejection as one sentence: the verifier's own sentences (another dataset, a statement
/// the proof does not establish) without the error kind's prefix.
fn rejection(e: zkgrad_core::ProofError) -> PyErr {
    use zkgrad_core::ProofError as E;
    InvalidProof::new_err(match e {
        E::Lookup(m) | E::Circuit(m) => m,
        e => e.to_string(),
    })
}

/// (model digest hex, dataset digest hex, rows, classes, correct (or the threshold), at least,
/// the confusion matrix row-major or empty).
type Statement = (String, String, u64, u32, u64, bool, Vec<u64>);

fn seed32(b: &[u8], what: &str) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| ModelError::new_err(format!("{what}: expected 32 bytes, got {}", b.len())))
}

/// Attests `model`'s accuracy on the dataset (recommitted from its values and seed; it must give
/// `public`), opening the model's epoch `epoch` and the dataset's epoch leaf of proof number
/// `number` (`known`: the owner's last dataset certificate, whose nodes are not made again);
/// returns (attestation bytes, model epoch certificate bytes, dataset epoch certificate bytes).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (model, features, labels, meta, seed, public, epoch, number, threshold=None, known=None, confusion=false))]
pub fn attest_prove<'py>(
    py: Python<'py>,
    model: &NativeModel,
    features: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    meta: &[u8],
    seed: &[u8],
    public: &[u8],
    epoch: u64,
    number: u64,
    threshold: Option<u64>,
    known: Option<Vec<u8>>,
    confusion: bool,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
)> {
    let (shape, x) = int_array(py, features, "features")?;
    if shape.len() != 2 {
        return Err(ModelError::new_err(
            "features must be a 2-D array (rows × features)",
        ));
    }
    let (_, y) = int_array(py, labels, "labels")?;
    let (meta, seed) = (seed32(meta, "meta")?, seed32(seed, "seed")?);
    let (proof, cert, dcert) = py.detach(|| {
        guarded(|| {
            let err = |e: zkgrad_core::ProofError| ModelError::new_err(e.to_string());
            let stored = DatasetCommitment::from_bytes(public).map_err(err)?;
            let ds = data::commit(&x, shape[0], shape[1], Some(&y), meta, seed).map_err(err)?;
            if ds.commitment != stored {
                return Err(ModelError::new_err(
                    "the dataset's values and seed do not give its stored commitment (the file was altered)",
                ));
            }
            // A stale or foreign certificate file only costs its nodes being made again.
            let known = known.and_then(|b| EpochCertificate::from_bytes(&b).ok());
            let (leaf, dcert) = ds.open_epoch(number, known.as_ref()).map_err(err)?;
            let (p, cert) = model
                .inner
                .attest_in_epoch(&leaf, epoch, threshold, confusion)
                .map_err(|e| ModelError::new_err(e.to_string()))?;
            Ok((
                p.to_bytes(),
                cert.map(|c| c.to_bytes()).unwrap_or_default(),
                dcert.to_bytes(),
            ))
        })
    })?;
    Ok((
        PyBytes::new(py, &proof),
        PyBytes::new(py, &cert),
        PyBytes::new(py, &dcert),
    ))
}

/// Verifies an attestation against the key and the dataset's public commitment, with the
/// model's epoch certificate (empty when the proof opens the published commitment) and the
/// dataset epoch's; returns the verified statement.
#[pyfunction]
pub fn attest_verify(
    py: Python<'_>,
    key: &NativeVerifyingKey,
    public: &[u8],
    proof: &[u8],
    certificate: &[u8],
    dataset_certificate: &[u8],
) -> PyResult<Statement> {
    py.detach(|| {
        guarded(|| {
            let invalid = |e: zkgrad_core::ProofError| InvalidProof::new_err(e.to_string());
            let c = DatasetCommitment::from_bytes(public).map_err(invalid)?;
            let p = Attestation::from_bytes(proof).map_err(invalid)?;
            let cert = if certificate.is_empty() {
                None
            } else {
                Some(EpochCertificate::from_bytes(certificate).map_err(invalid)?)
            };
            if p.dataset != c.digest() {
                // Named before the dataset certificate is looked at.
                return Err(rejection(zkgrad_core::ProofError::WrongDataset {
                    proof: crate::hex(&p.dataset[..8]),
                    pinned: crate::hex(&c.digest()[..8]),
                }));
            }
            if dataset_certificate.is_empty() {
                return Err(InvalidProof::new_err(format!(
                    "the attestation opens epoch {:?} of the dataset: its epoch certificate is needed",
                    p.dataset_epoch.path
                )));
            }
            let dcert = EpochCertificate::from_bytes(dataset_certificate).map_err(invalid)?;
            let s = data::verify_attestation(
                key.inner.spec(),
                key.inner.commitment(),
                &c,
                &p,
                cert.as_ref(),
                &dcert,
            )
            .map_err(rejection)?;
            Ok((
                crate::hex(&s.model),
                crate::hex(&s.dataset),
                s.rows,
                s.classes,
                s.correct,
                s.at_least,
                s.confusion,
            ))
        })
    })
}

/// The statement an attestation claims, unverified: (model hex, dataset hex, rows, classes,
/// correct) — for messages that name what a rejected proof was for.
#[pyfunction]
pub fn attest_claimed(proof: &[u8]) -> PyResult<Statement> {
    guarded(|| {
        let p = Attestation::from_bytes(proof).map_err(|e| InvalidProof::new_err(e.to_string()))?;
        Ok((
            crate::hex(&p.model),
            crate::hex(&p.dataset),
            p.rows,
            p.classes,
            p.correct,
            p.at_least,
            p.confusion,
        ))
    })
}
