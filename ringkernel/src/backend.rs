//! [`Backend`] (where actors run) and [`RuntimeError`], in a module of their own so that the
//! backends (`cpu`, `gpu`) and the handle report launch errors without importing the runtime
//! that imports them.

/// Which backend runs the actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// CUDA when the `cuda` feature is on and a driver and device are present, else the CPU.
    #[default]
    Auto,
    /// Host threads running the Rust handlers; always available.
    Cpu,
    /// The kernels' PTX in the PTX virtual machine (`ringkernel-ptx`, feature `emulator`, on
    /// by default), with the rings, control block and swap protocol of a GPU: the GPU path
    /// on any machine.
    Emulated,
    /// An NVIDIA GPU (feature `cuda`).
    Cuda,
}

impl Backend {
    /// The backend's name as the examples and the CLI spell it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Cpu => "cpu",
            Backend::Emulated => "emulated",
            Backend::Cuda => "cuda",
        }
    }
}

impl Backend {
    /// The backend named by `--backend NAME` or `--backend=NAME` among command-line
    /// arguments (`Auto` when there is none), as the examples take it.
    ///
    /// ```
    /// use ringkernel::Backend;
    /// let args = ["prog", "--backend", "emulated"].map(String::from);
    /// assert_eq!(Backend::from_args(args), Ok(Backend::Emulated));
    /// assert_eq!(Backend::from_args(["prog".to_owned()]), Ok(Backend::Auto));
    /// assert!(Backend::from_args(["--backend=gpu".to_owned()]).is_err());
    /// assert!(Backend::from_args(["--backend".to_owned()]).is_err());
    /// ```
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Backend, String> {
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if let Some(name) = arg.strip_prefix("--backend=") {
                return name.parse();
            }
            if arg == "--backend" {
                let name =
                    args.next().ok_or("`--backend` needs a value: auto, cpu, emulated or cuda")?;
                return name.parse();
            }
        }
        Ok(Backend::Auto)
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    /// `auto`, `cpu`, `emulated` or `cuda`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "emulated" => Ok(Backend::Emulated),
            "cuda" => Ok(Backend::Cuda),
            other => {
                Err(format!("unknown backend `{other}` (expected auto, cpu, emulated or cuda)"))
            }
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The backend cannot be used here.
    #[error("backend {backend:?} is not available: {reason}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: Backend,
        /// Why.
        reason: String,
    },
    /// An actor could not be started.
    #[error("kernel `{id}` could not be launched: {reason}")]
    Launch {
        /// Kernel id.
        id: String,
        /// Why.
        reason: String,
    },
    /// No rule actor with this id is running.
    #[error("rule `{0}` has no active version on this runtime")]
    NoRuleActor(String),
    /// The actor's rings carry other types than the handle asks for.
    #[error("`{id}` does not carry {wanted}")]
    WrongTypes {
        /// Kernel or rule id.
        id: String,
        /// The message and response types asked for.
        wanted: String,
    },
}
