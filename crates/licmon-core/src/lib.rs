//! licmon's domain: license servers, license-manager kinds and their capabilities, and the
//! derivation of the three data-source statuses (SPEC §1–2).
//!
//! Invariant: nothing in this crate does I/O or reads the clock. Every status is a pure function
//! of stored facts and a `now` passed in, so that every transition can be tested with controlled
//! time.

pub mod address;
pub mod alerts;
pub mod capacity;
pub mod manager;
pub mod server;
pub mod snapshot;
pub mod status;
pub mod validation;

pub use address::{HostPort, ServerAddress};
pub use manager::{DataSource, ManagerKind};
pub use server::{DataSourceSwitches, LicenseServer, LicenseServerInput, ServerId};
pub use status::{EndUserStatus, ImportStatus, RemoteStatus, ServerFacts, ServerStatuses};
pub use validation::{FieldError, ValidationErrors};
