//! Turns a promptpack's case inputs into tensors every device can take: `.npy` files as they are,
//! PNG/JPEG images decoded, resized, normalised and laid out as NCHW or NHWC float32.
//!
//! When the config gives `model.input_specs`, each case's tensors are checked against them here,
//! before any device time is spent. Paths resolve against the promptpack's folder, through the
//! project's [`PathPolicy`], so they never lead outside the project.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use thiserror::Error;

use crate::config::promptpack::Layout;
use crate::config::types::TensorSpec;
use crate::config::{CaseInput, PathError, PathPolicy, Project};
use crate::device::{CaseInputs, ModelArtifact};
use crate::tensor::{DType, Tensor, TensorError};

/// Why a case's inputs could not be turned into tensors.
#[derive(Debug, Error)]
pub enum InputError {
    /// The config names its cases by `promptpack_ref`, which only a server can resolve.
    #[error(
        "the promptpack is a `promptpack_ref`, which only `edgegate serve` can resolve; give `promptpack.path` to run locally"
    )]
    NoPromptpack,
    /// An input gives neither `npy` nor `image`.
    #[error("case `{case}`, input `{input}`: give either `npy` or `image`")]
    NoSource {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
    },
    /// The input file is outside the project (or in `.git`), so it is not read.
    #[error("case `{case}`, input `{input}`: the input file {source}; {help}")]
    Refused {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// Why the path was refused.
        source: Box<PathError>,
        /// What to do about it.
        help: String,
    },
    /// The input file could not be opened.
    #[error(
        "case `{case}`, input `{input}`: cannot open {}: {source}; paths are relative to the promptpack's folder",
        file.display()
    )]
    Open {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// The resolved path.
        file: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The input file is missing, not a regular file, or larger than its limit.
    #[error(
        "case `{case}`, input `{input}`: {source}; paths are relative to the promptpack's folder"
    )]
    File {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// What is wrong with the file.
        source: crate::files::FileError,
    },
    /// The `.npy` file is not a tensor EdgeGate can read.
    #[error(
        "case `{case}`, input `{input}`: {} is not a usable .npy file: {source}; save it with numpy.save",
        file.display()
    )]
    Npy {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// The resolved path.
        file: PathBuf,
        /// What was wrong with the data.
        source: TensorError,
    },
    /// The image could not be decoded.
    #[error(
        "case `{case}`, input `{input}`: cannot decode image {}: {source}; only PNG and JPEG are supported",
        file.display()
    )]
    Image {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// The resolved path.
        file: PathBuf,
        /// What the decoder said.
        source: Box<image::ImageError>,
    },
    /// `mean` or `std` does not fit the image's channels, or `std` has a zero.
    #[error("case `{case}`, input `{input}` ({}): {message}", file.display())]
    Normalise {
        /// The case id.
        case: String,
        /// The input name.
        input: String,
        /// The resolved path.
        file: PathBuf,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// The case names an input the model does not have.
    #[error(
        "case `{case}`: input `{input}` is not in `model.input_specs` (the model's inputs are {expected}); rename the input in the promptpack"
    )]
    UnknownInput {
        /// The case id.
        case: String,
        /// The input name given.
        input: String,
        /// The input names the model takes, backticked.
        expected: String,
    },
    /// The case does not give an input the model needs.
    #[error(
        "case `{case}`: the model needs input `{input}` (shape {shape:?}, {dtype}) but the case does not give it"
    )]
    MissingInput {
        /// The case id.
        case: String,
        /// The input name the model needs.
        input: String,
        /// Its shape.
        shape: Vec<u64>,
        /// Its element type.
        dtype: DType,
    },
    /// A tensor's shape or element type is not what `model.input_specs` says.
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
}

/// The details of a tensor that does not fit `model.input_specs`.
#[derive(Debug, Error)]
#[error(
    "case `{case}`, input `{input}` ({}): the model expects {} but the file gives {}; {hint}",
    file.display(), describe(expected_shape, *expected_dtype), describe(given_shape, *given_dtype)
)]
pub struct Mismatch {
    /// The case id.
    pub case: String,
    /// The input name.
    pub input: String,
    /// The resolved path.
    pub file: PathBuf,
    /// Shape from `input_specs`.
    pub expected_shape: Vec<u64>,
    /// Element type from `input_specs`.
    pub expected_dtype: DType,
    /// Shape of the tensor read.
    pub given_shape: Vec<u64>,
    /// Element type of the tensor read.
    pub given_dtype: DType,
    /// What to change.
    pub hint: &'static str,
}

fn describe(shape: &[u64], dtype: DType) -> String {
    format!("{dtype} {shape:?}")
}

/// Reads the inputs of every case that runs (`Case::skip_reason` is none), in promptpack order,
/// checked against `model.input_specs` when given.
pub fn load_case_inputs(
    project: &Project,
    model: &ModelArtifact,
) -> Result<Vec<CaseInputs>, InputError> {
    let pack = project
        .promptpack
        .as_ref()
        .ok_or(InputError::NoPromptpack)?;
    pack.cases
        .iter()
        .filter(|case| {
            case.skip_reason_for(project.config.model.tokenizer.is_some())
                .is_none()
        })
        .map(|case| {
            let mut tensors = Vec::with_capacity(case.inputs.len());
            let mut files = Vec::with_capacity(case.inputs.len());
            for (name, input) in &case.inputs {
                let (tensor, file) = load_input(
                    &project.paths,
                    &project.pack_dir,
                    &case.case_id,
                    name,
                    input,
                )?;
                tensors.push((name.clone(), tensor));
                files.push(file);
            }
            let tensors = if model.input_specs.is_empty() || tensors.is_empty() {
                tensors
            } else {
                check_against_specs(&case.case_id, tensors, files, &model.input_specs)?
            };
            Ok(CaseInputs {
                case_id: case.case_id.clone(),
                prompt: case.prompt.clone(),
                tensors,
            })
        })
        .collect()
}

/// Reads one input (`npy` or `image`) of one case, named relative to `dir`, into a tensor;
/// returns the resolved path too.
pub fn load_input(
    paths: &PathPolicy,
    dir: &Path,
    case: &str,
    input: &str,
    spec: &CaseInput,
) -> Result<(Tensor, PathBuf), InputError> {
    let resolve = |named: &str| {
        paths
            .resolve(dir, named)
            .map_err(|source| InputError::Refused {
                case: case.to_owned(),
                input: input.to_owned(),
                source: Box::new(source),
                help: paths.help(),
            })
    };
    match (&spec.npy, &spec.image) {
        (Some(npy), _) => {
            let file = resolve(npy)?;
            let t = read_npy(&file, case, input)?;
            Ok((t, file))
        }
        (None, Some(image)) => {
            let file = resolve(image)?;
            let t = read_image(&file, case, input, spec)?;
            Ok((t, file))
        }
        (None, None) => Err(InputError::NoSource {
            case: case.to_owned(),
            input: input.to_owned(),
        }),
    }
}

fn file_error(case: &str, input: &str) -> impl FnOnce(crate::files::FileError) -> InputError {
    move |source| InputError::File {
        case: case.to_owned(),
        input: input.to_owned(),
        source,
    }
}

fn read_npy(file: &Path, case: &str, input: &str) -> Result<Tensor, InputError> {
    let f = crate::files::reader(file, "input file", crate::files::TENSOR_LIMIT)
        .map_err(file_error(case, input))?;
    Tensor::read_npy(BufReader::new(f)).map_err(|source| InputError::Npy {
        case: case.to_owned(),
        input: input.to_owned(),
        file: file.to_owned(),
        source,
    })
}

fn read_image(
    file: &Path,
    case: &str,
    input: &str,
    spec: &CaseInput,
) -> Result<Tensor, InputError> {
    let image_err = |source| InputError::Image {
        case: case.to_owned(),
        input: input.to_owned(),
        file: file.to_owned(),
        source,
    };
    let bytes = crate::files::read(file, "image file", crate::files::IMAGE_LIMIT)
        .map_err(file_error(case, input))?;
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
    if let Ok(format) = image::ImageFormat::from_path(file) {
        reader.set_format(format);
    }
    let decoded = reader
        .with_guessed_format()
        .map_err(|source| InputError::Open {
            case: case.to_owned(),
            input: input.to_owned(),
            file: file.to_owned(),
            source,
        })?
        .decode()
        .map_err(|e| image_err(Box::new(e)))?;
    let norm_err = |message: String| InputError::Normalise {
        case: case.to_owned(),
        input: input.to_owned(),
        file: file.to_owned(),
        message,
    };
    let pre = Preprocess::from_input(spec).map_err(norm_err)?;
    pre.apply(&decoded).map_err(norm_err)
}

/// How an image becomes a tensor: the `image` input's options with their defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    /// Convert to one channel (luma) instead of RGB.
    pub grayscale: bool,
    /// Resize to `[height, width]`; `None` keeps the image's size.
    pub resize: Option<[u32; 2]>,
    /// Per-channel mean (one value applies to every channel).
    pub mean: Vec<f64>,
    /// Per-channel standard deviation (one value applies to every channel).
    pub std: Vec<f64>,
    /// Where the channel axis goes.
    pub layout: Layout,
}

impl Preprocess {
    /// The options of an `image` case input, with defaults (RGB, no resize, mean 0, std 1, NCHW).
    pub fn from_input(spec: &CaseInput) -> Result<Self, String> {
        let grayscale = spec.grayscale.unwrap_or(false);
        let channels = if grayscale { 1 } else { 3 };
        let mean = spec.mean.clone().unwrap_or_else(|| vec![0.0]);
        let std = spec.std.clone().unwrap_or_else(|| vec![1.0]);
        for (key, values) in [("mean", &mean), ("std", &std)] {
            if values.len() != 1 && values.len() != channels {
                return Err(format!(
                    "`{key}` has {} values but the image has {channels} channel{}; give 1 or {channels} values{}",
                    values.len(),
                    if channels == 1 { "" } else { "s" },
                    if grayscale {
                        ""
                    } else {
                        ", or set `grayscale: true`"
                    }
                ));
            }
        }
        if std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
            return Err("`std` values must be finite and non-zero".to_owned());
        }
        if let Some([h, w]) = spec.resize
            && (h == 0 || w == 0)
        {
            return Err("`resize` must be [height, width] with both at least 1".to_owned());
        }
        Ok(Self {
            grayscale,
            resize: spec.resize,
            mean,
            std,
            layout: spec.layout.unwrap_or(Layout::Nchw),
        })
    }

    /// Converts a decoded image into a float32 tensor of shape `[1, C, H, W]` or `[1, H, W, C]`.
    pub fn apply(&self, img: &image::DynamicImage) -> Result<Tensor, String> {
        let img = match self.resize {
            Some([h, w]) if (img.height(), img.width()) != (h, w) => {
                img.resize_exact(w, h, FilterType::Triangle)
            }
            _ => img.clone(),
        };
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (c, pixels): (usize, Vec<u8>) = if self.grayscale {
            (1, img.to_luma8().into_raw())
        } else {
            (3, img.to_rgb8().into_raw())
        };
        let pick = |v: &[f64], ch: usize| if v.len() == 1 { v[0] } else { v[ch] };
        let mut values = vec![0f32; c * h * w];
        for (i, &p) in pixels.iter().enumerate() {
            let ch = i % c;
            let pix = i / c;
            let v = (f64::from(p) / 255.0 - pick(&self.mean, ch)) / pick(&self.std, ch);
            let at = match self.layout {
                Layout::Nhwc => i,
                Layout::Nchw => ch * h * w + pix,
            };
            values[at] = v as f32;
        }
        let shape = match self.layout {
            Layout::Nchw => vec![1, c, h, w],
            Layout::Nhwc => vec![1, h, w, c],
        };
        Tensor::from_f32(shape, &values).map_err(|e| e.to_string())
    }
}

fn check_against_specs(
    case: &str,
    tensors: Vec<(String, Tensor)>,
    files: Vec<PathBuf>,
    specs: &indexmap::IndexMap<String, TensorSpec>,
) -> Result<Vec<(String, Tensor)>, InputError> {
    let mut given: Vec<Option<(String, Tensor, PathBuf)>> = tensors
        .into_iter()
        .zip(files)
        .map(|((n, t), f)| Some((n, t, f)))
        .collect();
    if let Some(Some((name, _, _))) = given.iter().find(|g| {
        g.as_ref()
            .is_some_and(|(n, _, _)| !specs.contains_key(n.as_str()))
    }) {
        return Err(InputError::UnknownInput {
            case: case.to_owned(),
            input: name.clone(),
            expected: specs
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut ordered = Vec::with_capacity(specs.len());
    for (name, spec) in specs {
        let want_dtype = spec.dtype;
        let Some((n, t, file)) = given
            .iter_mut()
            .find(|g| g.as_ref().is_some_and(|(n, _, _)| n == name))
            .and_then(Option::take)
        else {
            return Err(InputError::MissingInput {
                case: case.to_owned(),
                input: name.clone(),
                shape: spec.shape.clone(),
                dtype: want_dtype,
            });
        };
        let given_shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
        if given_shape != spec.shape || t.dtype() != want_dtype {
            let hint = if given_shape.iter().product::<u64>() == spec.shape.iter().product::<u64>()
                && given_shape != spec.shape
            {
                "the element count matches: reshape the array (or fix `resize`/`layout`) so the dimensions agree"
            } else if given_shape == spec.shape {
                "convert the array's dtype (for example `arr.astype(numpy.float32)`), or fix `model.input_specs`"
            } else {
                "regenerate the input with the model's shape, or fix `model.input_specs` if it is wrong"
            };
            return Err(InputError::Mismatch(Box::new(Mismatch {
                case: case.to_owned(),
                input: n,
                file,
                expected_shape: spec.shape.clone(),
                expected_dtype: want_dtype,
                given_shape,
                given_dtype: t.dtype(),
                hint,
            })));
        }
        ordered.push((n, t));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_project;
    use image::{DynamicImage, Rgb, RgbImage};

    fn quickstart() -> Project {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/edgegate.yaml");
        match load_project(&path) {
            Ok(p) => p,
            Err(f) => panic!("{:?}", f.diagnostics),
        }
    }

    fn artifact(project: &Project) -> ModelArtifact {
        ModelArtifact {
            path: project.model_path.clone(),
            kind: project.model_kind,
            sha256: String::new(),
            size_bytes: 0,
            input_specs: project.config.model.input_specs.clone(),
        }
    }

    fn spec(shape: &[u64], dtype: DType) -> TensorSpec {
        TensorSpec {
            shape: shape.to_vec(),
            dtype,
        }
    }

    fn f32s(t: &Tensor) -> Vec<f32> {
        t.to_f64_vec().into_iter().map(|v| v as f32).collect()
    }

    fn two_by_one() -> DynamicImage {
        let mut img = RgbImage::new(2, 1);
        img.put_pixel(0, 0, Rgb([255, 0, 51]));
        img.put_pixel(1, 0, Rgb([0, 102, 255]));
        DynamicImage::ImageRgb8(img)
    }

    #[test]
    fn quickstart_npy_inputs_load_in_promptpack_order() {
        let p = quickstart();
        let cases = load_case_inputs(&p, &artifact(&p)).unwrap();
        assert_eq!(cases.len(), 24);
        assert_eq!(cases[0].case_id, "digit_000");
        assert_eq!(cases[0].prompt.as_deref(), Some("Which digit is this?"));
        let (name, t) = &cases[0].tensors[0];
        assert_eq!(name, "image");
        assert_eq!(t.shape(), &[1, 64]);
        assert_eq!(t.dtype(), DType::F32);
        let v = t.to_f64_vec();
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)), "{v:?}");
        assert!(v.iter().any(|x| *x > 0.0));
    }

    #[test]
    fn matching_input_specs_pass() {
        let p = quickstart();
        let mut m = artifact(&p);
        m.input_specs
            .insert("image".into(), spec(&[1, 64], DType::F32));
        assert_eq!(load_case_inputs(&p, &m).unwrap().len(), 24);
    }

    #[test]
    fn shape_mismatch_names_case_input_file_and_both_shapes() {
        let p = quickstart();
        let mut m = artifact(&p);
        m.input_specs
            .insert("image".into(), spec(&[1, 8, 8], DType::F32));
        let err = load_case_inputs(&p, &m).unwrap_err().to_string();
        assert!(err.contains("case `digit_000`, input `image`"), "{err}");
        assert!(err.contains("case_000.npy"), "{err}");
        assert!(err.contains("expects float32 [1, 8, 8]"), "{err}");
        assert!(err.contains("gives float32 [1, 64]"), "{err}");
        assert!(err.contains("reshape"), "{err}");
    }

    #[test]
    fn dtype_mismatch_says_how_to_convert() {
        let p = quickstart();
        let mut m = artifact(&p);
        m.input_specs
            .insert("image".into(), spec(&[1, 64], DType::F16));
        let err = load_case_inputs(&p, &m).unwrap_err().to_string();
        assert!(err.contains("expects float16 [1, 64]"), "{err}");
        assert!(err.contains("astype"), "{err}");
    }

    #[test]
    fn unknown_and_missing_inputs_are_named() {
        let p = quickstart();
        let mut m = artifact(&p);
        m.input_specs
            .insert("pixels".into(), spec(&[1, 64], DType::F32));
        let err = load_case_inputs(&p, &m).unwrap_err().to_string();
        assert!(err.contains("input `image` is not in"), "{err}");
        assert!(err.contains("`pixels`"), "{err}");
        m.input_specs
            .insert("image".into(), spec(&[1, 64], DType::F32));
        let err = load_case_inputs(&p, &m).unwrap_err().to_string();
        assert!(err.contains("needs input `pixels`"), "{err}");
    }

    #[test]
    fn missing_file_says_paths_are_relative_to_the_promptpack() {
        let input = CaseInput {
            npy: Some("nope.npy".into()),
            ..Default::default()
        };
        let dir = Path::new("/tmp/does-not-exist");
        let err = load_input(&PathPolicy::confined(dir), dir, "c1", "x", &input)
            .unwrap_err()
            .to_string();
        assert!(err.contains("case `c1`, input `x`"), "{err}");
        assert!(err.contains("nope.npy"), "{err}");
        assert!(err.contains("relative to the promptpack"), "{err}");
    }

    #[test]
    fn an_input_outside_the_project_is_refused_unread() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.npy"), b"QAIHUB_API_TOKEN=fake").unwrap();
        let project = tempfile::tempdir().unwrap();
        let named = outside.path().join("x.npy").display().to_string();
        let input = CaseInput {
            npy: Some(named.clone()),
            ..Default::default()
        };
        let paths = PathPolicy::confined(project.path());
        let err = load_input(&paths, project.path(), "c", "x", &input).unwrap_err();
        assert!(matches!(err, InputError::Refused { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{named}` is outside the project")),
            "{text}"
        );
        assert!(!text.contains("QAIHUB_API_TOKEN"), "{text}");
    }

    #[test]
    fn not_an_npy_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.npy"), b"hello").unwrap();
        let input = CaseInput {
            npy: Some("x.npy".into()),
            ..Default::default()
        };
        let err = load_input(
            &PathPolicy::confined(dir.path()),
            dir.path(),
            "c",
            "x",
            &input,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a usable .npy file"), "{err}");
    }

    #[test]
    fn png_nchw_scaled_to_unit_range() {
        let dir = tempfile::tempdir().unwrap();
        two_by_one().save(dir.path().join("a.png")).unwrap();
        let input = CaseInput {
            image: Some("a.png".into()),
            ..Default::default()
        };
        let (t, _) = load_input(
            &PathPolicy::confined(dir.path()),
            dir.path(),
            "c",
            "img",
            &input,
        )
        .unwrap();
        assert_eq!(t.shape(), &[1, 3, 1, 2]);
        assert_eq!(t.dtype(), DType::F32);
        assert_eq!(f32s(&t), vec![1.0, 0.0, 0.0, 0.4, 0.2, 1.0]);
    }

    #[test]
    fn png_nhwc_with_mean_and_std_per_channel() {
        let dir = tempfile::tempdir().unwrap();
        two_by_one().save(dir.path().join("a.png")).unwrap();
        let input = CaseInput {
            image: Some("a.png".into()),
            layout: Some(Layout::Nhwc),
            mean: Some(vec![0.5, 0.0, 0.2]),
            std: Some(vec![0.5, 2.0, 0.4]),
            ..Default::default()
        };
        let (t, _) = load_input(
            &PathPolicy::confined(dir.path()),
            dir.path(),
            "c",
            "img",
            &input,
        )
        .unwrap();
        assert_eq!(t.shape(), &[1, 1, 2, 3]);
        let want = [1.0, 0.0, 0.0, -1.0, 0.2, 2.0];
        for (got, want) in f32s(&t).iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    #[test]
    fn resize_and_grayscale() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 6, Rgb([255, 255, 255])));
        let pre = Preprocess::from_input(&CaseInput {
            image: Some("x.png".into()),
            resize: Some([3, 2]),
            grayscale: Some(true),
            ..Default::default()
        })
        .unwrap();
        let t = pre.apply(&img).unwrap();
        assert_eq!(t.shape(), &[1, 1, 3, 2]);
        assert!(f32s(&t).iter().all(|v| (v - 1.0).abs() < 1e-6));
        let nhwc = Preprocess {
            layout: Layout::Nhwc,
            grayscale: false,
            ..pre
        };
        assert_eq!(nhwc.apply(&img).unwrap().shape(), &[1, 3, 2, 3]);
    }

    #[test]
    fn mean_length_must_fit_the_channels() {
        let err = Preprocess::from_input(&CaseInput {
            image: Some("x.png".into()),
            mean: Some(vec![0.1, 0.2]),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("`mean` has 2 values"), "{err}");
        let err = Preprocess::from_input(&CaseInput {
            image: Some("x.png".into()),
            std: Some(vec![0.0]),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("non-zero"), "{err}");
    }

    #[test]
    fn jpeg_decodes_resizes_and_keeps_its_colour() {
        let dir = tempfile::tempdir().unwrap();
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(16, 8, Rgb([200, 100, 50])));
        img.save(dir.path().join("a.jpg")).unwrap();
        let input = CaseInput {
            image: Some("a.jpg".into()),
            resize: Some([4, 2]),
            ..Default::default()
        };
        let (t, _) = load_input(
            &PathPolicy::confined(dir.path()),
            dir.path(),
            "c",
            "img",
            &input,
        )
        .unwrap();
        assert_eq!(t.shape(), &[1, 3, 4, 2]);
        let v = f32s(&t);
        for (ch, want) in [200.0f32, 100.0, 50.0].into_iter().enumerate() {
            for got in &v[ch * 8..(ch + 1) * 8] {
                assert!((got * 255.0 - want).abs() < 4.0, "channel {ch}: {got}");
            }
        }
    }

    #[test]
    fn a_text_file_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"not a png").unwrap();
        let input = CaseInput {
            image: Some("a.png".into()),
            ..Default::default()
        };
        let err = load_input(
            &PathPolicy::confined(dir.path()),
            dir.path(),
            "c",
            "img",
            &input,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cannot decode image"), "{err}");
        assert!(err.contains("PNG and JPEG"), "{err}");
    }
}
