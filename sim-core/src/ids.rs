//! Typed ids, so a VM index can never be passed where a host index is expected.

use serde::{Deserialize, Serialize};

/// Index of a VM in the scenario's `vm` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VmId(pub usize);

/// Index of a host in the scenario's `host` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HostId(pub usize);
