//! Datasets: commit, prove properties, verify (`zkgrad_core::data`). Specs cross the boundary as
//! plain tuples: ranges, sums and variances as (feature, lo, hi), classes as (K, [(lo, hi), ...]).

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zkgrad_core::data::{
    self, Bound as FeatureBound, ClassSpec, DatasetCommitment, PropertySpec, epochs,
};
use zkgrad_core::epoch::EpochCertificate;

use crate::{InvalidProof, ModelError, guarded, int_array};

type Bounds = Vec<(u32, i64, i64)>;
type Classes = Option<(u32, Vec<(u64, u64)>)>;
/// Row-major features, rows, features, labels.
type Columns = (Vec<i64>, usize, usize, Option<Vec<i64>>);

fn model_error(e: zkgrad_core::ProofError) -> PyErr {
    ModelError::new_err(e.to_string())
}

fn bytes32(b: &[u8], what: &str) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| ModelError::new_err(format!("{what}: expected 32 bytes, got {}", b.len())))
}

/// Features (rows × features) and labels as the core's flat vectors.
fn columns(
    py: Python<'_>,
    features: &Bound<'_, PyAny>,
    labels: Option<&Bound<'_, PyAny>>,
) -> PyResult<Columns> {
    let (shape, x) = int_array(py, features, "features")?;
    if shape.len() != 2 {
        return Err(ModelError::new_err(format!(
            "features must be a 2-D array (rows × features), got {} dimensions",
            shape.len()
        )));
    }
    let y = match labels {
        Some(l) => {
            let arr = int_array(py, l, "labels")?;
            Some(arr.1)
        }
        None => None,
    };
    Ok((x, shape[0], shape[1], y))
}

fn to_spec(ranges: Bounds, classes: Classes, sums: Bounds, variances: Bounds) -> PropertySpec {
    let bound = |(feature, lo, hi)| FeatureBound { feature, lo, hi };
    PropertySpec {
        ranges: ranges.into_iter().map(bound).collect(),
        classes: classes.map(|(classes, counts)| ClassSpec { classes, counts }),
        sums: sums.into_iter().map(bound).collect(),
        variances: variances.into_iter().map(bound).collect(),
    }
}

/// A verified statement: (ranges, classes, sums, variances).
type Statement = (Bounds, Classes, Bounds, Bounds);

fn from_spec(s: PropertySpec) -> Statement {
    let b = |v: Vec<FeatureBound>| v.into_iter().map(|b| (b.feature, b.lo, b.hi)).collect();
    (
        b(s.ranges),
        s.classes.map(|c| (c.classes, c.counts)),
        b(s.sums),
        b(s.variances),
    )
}

/// Commits to a dataset; returns the public commitment's bytes.
#[pyfunction]
#[pyo3(signature = (features, labels, meta, seed))]
pub fn dataset_commit<'py>(
    py: Python<'py>,
    features: &Bound<'py, PyAny>,
    labels: Option<&Bound<'py, PyAny>>,
    meta: &[u8],
    seed: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let (x, rows, f, y) = columns(py, features, labels)?;
    let (meta, seed) = (bytes32(meta, "meta")?, bytes32(seed, "seed")?);
    let public = py.detach(|| {
        guarded(|| {
            let ds = data::commit(&x, rows, f, y.as_deref(), meta, seed).map_err(model_error)?;
            Ok(ds.commitment.to_bytes())
        })
    })?;
    Ok(PyBytes::new(py, &public))
}

/// A public commitment's (digest hex, proofs its budget allows, metadata digest hex, rows,
/// features, has labels).
#[pyfunction]
pub fn dataset_info(public: &[u8]) -> PyResult<(String, usize, String, u64, u32, bool)> {
    guarded(|| {
        let c = DatasetCommitment::from_bytes(public).map_err(model_error)?;
        let budget = c.budget().map_err(model_error)?;
        Ok((
            crate::hex(&c.digest()),
            budget,
            crate::hex(&c.meta),
            c.rows,
            c.features,
            c.labels,
        ))
    })
}

/// A public commitment's epochs (`zkgrad_core::data::epochs`): (proofs per epoch, children per
/// node, proofs the whole tree serves).
#[pyfunction]
pub fn dataset_epochs(public: &[u8]) -> PyResult<(usize, usize, u64)> {
    guarded(|| {
        let c = DatasetCommitment::from_bytes(public).map_err(model_error)?;
        Ok((
            epochs::proofs_per_epoch(&c).map_err(model_error)?,
            epochs::fanout(&c).map_err(model_error)?,
            epochs::capacity(&c).map_err(model_error)?,
        ))
    })
}

/// Proves a property spec about the dataset (recommitted from its values and seed; it must give
/// `public`) as proof `number` of its digest: the proof opens that number's epoch leaf. `known`
/// is a certificate of an earlier epoch (the owner's own), whose nodes are not made again.
/// Returns the proof's bytes and its epoch certificate's.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (features, labels, meta, seed, public, ranges, classes, sums, variances, number, known=None))]
pub fn dataset_prove<'py>(
    py: Python<'py>,
    features: &Bound<'py, PyAny>,
    labels: Option<&Bound<'py, PyAny>>,
    meta: &[u8],
    seed: &[u8],
    public: &[u8],
    ranges: Bounds,
    classes: Classes,
    sums: Bounds,
    variances: Bounds,
    number: u64,
    known: Option<Vec<u8>>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let (x, rows, f, y) = columns(py, features, labels)?;
    let (meta, seed) = (bytes32(meta, "meta")?, bytes32(seed, "seed")?);
    let spec = to_spec(ranges, classes, sums, variances);
    let (proof, cert) = py.detach(|| {
        guarded(|| {
            let stored = DatasetCommitment::from_bytes(public).map_err(model_error)?;
            let ds = data::commit(&x, rows, f, y.as_deref(), meta, seed).map_err(model_error)?;
            if ds.commitment != stored {
                return Err(ModelError::new_err(
                    "the dataset's values and seed do not give its stored commitment (the file was altered)",
                ));
            }
            spec.validate(&ds.commitment).map_err(model_error)?;
            // A stale or foreign certificate file only costs its nodes being made again.
            let known = known.and_then(|b| EpochCertificate::from_bytes(&b).ok());
            let (leaf, cert) = ds
                .open_epoch(number, known.as_ref())
                .map_err(model_error)?;
            let p = data::prove(&leaf, &spec).map_err(model_error)?;
            Ok((p.to_bytes(), cert.to_bytes()))
        })
    })?;
    Ok((PyBytes::new(py, &proof), PyBytes::new(py, &cert)))
}

/// Verifies a property proof against a public commitment, with the certificate of the epoch it
/// opens; returns the verified statement.
#[pyfunction]
pub fn dataset_verify(
    py: Python<'_>,
    public: &[u8],
    proof: &[u8],
    certificate: Option<Vec<u8>>,
) -> PyResult<Statement> {
    py.detach(|| {
        guarded(|| {
            let c = DatasetCommitment::from_bytes(public).map_err(model_error)?;
            let invalid = |e: zkgrad_core::ProofError| InvalidProof::new_err(e.to_string());
            let p = data::PropertyProof::from_bytes(proof).map_err(invalid)?;
            let Some(cert) = certificate else {
                return Err(InvalidProof::new_err(format!(
                    "the proof opens epoch {:?} of the dataset: its epoch certificate is needed (epochs/ beside the proof)",
                    p.epoch.path
                )));
            };
            let cert = EpochCertificate::from_bytes(&cert).map_err(invalid)?;
            Ok(from_spec(data::verify(&c, &p, &cert).map_err(invalid)?))
        })
    })
}

/// The epoch a property proof opens: (leaf path, leaf commitment digest hex).
#[pyfunction]
pub fn property_proof_epoch(proof: &[u8]) -> PyResult<(Vec<u8>, String)> {
    guarded(|| {
        let p = data::PropertyProof::from_bytes(proof)
            .map_err(|e| InvalidProof::new_err(e.to_string()))?;
        Ok((p.epoch.path, crate::hex(&p.epoch.commitment.digest())))
    })
}

/// The dataset digest (hex) a property proof names.
#[pyfunction]
pub fn property_proof_dataset(proof: &[u8]) -> PyResult<String> {
    guarded(|| {
        let p = data::PropertyProof::from_bytes(proof)
            .map_err(|e| InvalidProof::new_err(e.to_string()))?;
        Ok(crate::hex(&p.dataset))
    })
}
