//! The process-wide [`WasmEngine`]: one wasmtime `Engine` with an epoch ticker thread, one
//! `Linker` (WASI p2 and the transform world), and the on-disk cache of compiled components.
//!
//! Cache: `<dir>/<engine>-<wasm>.cwasm`, where `<engine>` is a SHA-256 of
//! `Engine::precompile_compatibility_hash` (wasmtime version, engine config, Cargo features:
//! artifacts never cross those) and `<wasm>` the SHA-256 of the `.wasm` file. Writes are
//! atomic (temporary file, fsync, rename), so a crash never leaves a half artifact under a
//! final name. An artifact that fails to load is recompiled and overwritten.

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use super::bindings::{self, TransformPre};
use super::config::TransformSettings;
use super::error::WasmError;
use super::host::HostState;
use super::instance::LoadedTransform;
use super::limits::EPOCH_TICK;

/// The environment variable that overrides the default cache directory.
pub const CACHE_DIR_ENV: &str = "WPROC_COMPONENT_CACHE";

/// Whether a component came from the cache or was compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a compiled artifact on disk.
    Hit,
    /// Compiled now (and written to the cache).
    Compiled,
}

/// One engine and linker per process.
pub struct WasmEngine {
    engine: Engine,
    linker: Linker<HostState>,
    compat: String,
}

static SHARED: OnceLock<Result<WasmEngine, String>> = OnceLock::new();

/// The default cache directory: `$WPROC_COMPONENT_CACHE`, else `~/.cache/wproc/components`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache/wproc/components")
}

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first bytes of a WebAssembly binary: magic, then version and layer.
const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [1, 0, 0, 0];

impl WasmEngine {
    /// The process's engine, created on first use (with its ticker thread).
    pub fn shared() -> Result<&'static WasmEngine, WasmError> {
        SHARED
            .get_or_init(|| WasmEngine::new().map_err(|e| super::error::describe(&e)))
            .as_ref()
            .map_err(|message| WasmError::Load {
                transform: String::new(),
                path: PathBuf::new(),
                message: format!("cannot create the wasm engine: {message}"),
            })
    }

    fn new() -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("wproc-wasm-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                }
            })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        bindings::add_to_linker(&mut linker)?;
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let compat = hex(&h.0.finalize()[..8]);
        Ok(Self {
            engine,
            linker,
            compat,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Loads (from the cache, or compiles and caches) and links one transform.
    pub fn load(
        &'static self,
        settings: &TransformSettings,
    ) -> Result<(LoadedTransform, CacheOutcome), WasmError> {
        let load_err = |message: String| WasmError::Load {
            transform: settings.name.to_string(),
            path: settings.path.clone(),
            message,
        };
        let bytes = std::fs::read(&settings.path).map_err(|e| load_err(e.to_string()))?;
        if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
            return Err(load_err("not a WebAssembly file".into()));
        }
        if bytes[4..8] == CORE_MODULE_VERSION {
            return Err(load_err(
                "a core WebAssembly module, not a component: build the transform for the \
                 wasm32-wasip2 target (cargo build --release --target wasm32-wasip2)"
                    .into(),
            ));
        }
        let file = settings.cache_dir.join(format!(
            "{}-{}.cwasm",
            self.compat,
            hex(&Sha256::digest(&bytes))
        ));
        let (component, outcome) = match self.load_cached(&file) {
            Some(c) => (c, CacheOutcome::Hit),
            None => {
                let c = Component::new(&self.engine, &bytes)
                    .map_err(|e| load_err(super::error::describe(&e)))?;
                self.write_cache(settings, &file, &c)?;
                (c, CacheOutcome::Compiled)
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(TransformPre::new)
            .map_err(|e| {
                load_err(format!(
                    "does not fit the wproc:transform@0.1.0 world: {}",
                    super::error::describe(&e)
                ))
            })?;
        let loaded = LoadedTransform {
            name: settings.name.clone(),
            init_config: settings.init_config.clone(),
            limits: settings.limits,
            engine: self.engine.clone(),
            pre: Arc::new(pre),
        };
        Ok((loaded, outcome))
    }

    fn load_cached(&self, file: &Path) -> Option<Component> {
        if !file.is_file() {
            return None;
        }
        // SAFETY: `deserialize_file` trusts the file to be a wasmtime artifact. Only wproc
        // writes this cache directory, atomically, under a name keyed by this engine's
        // compatibility hash and the source's SHA-256, so the file is an artifact this very
        // engine configuration produced from that source.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(&self.engine, file) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(
                    message = "Cached component does not load; recompiling.",
                    file = %file.display(),
                    error = %super::error::describe(&e)
                );
                None
            }
        }
    }

    fn write_cache(
        &self,
        settings: &TransformSettings,
        file: &Path,
        component: &Component,
    ) -> Result<(), WasmError> {
        let io_err = |path: &Path, source| WasmError::CacheIo {
            transform: settings.name.to_string(),
            path: path.to_path_buf(),
            source,
        };
        let bytes = component.serialize().map_err(|e| WasmError::Load {
            transform: settings.name.to_string(),
            path: settings.path.clone(),
            message: format!("cannot serialize: {}", super::error::describe(&e)),
        })?;
        crate::fsutil::create_dir_all_durable(&settings.cache_dir)
            .map_err(|e| io_err(&settings.cache_dir, e))?;
        // A temporary name of our own: several processes (or threads) may compile the same
        // component at once; each renames a complete artifact over the same final name.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = file.with_extension(format!(
            "{}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, file)?;
            crate::fsutil::sync_dir(&settings.cache_dir)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err(file, e)
        })
    }
}
