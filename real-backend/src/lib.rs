//! # migralab real-backend
//!
//! Real mode: the same [`migralab_sim_core::Lab`] questions answered by real hosts through
//! libvirt. This crate holds what real mode needs that does not touch libvirt itself (URI
//! handling, the ICMP [`prober`], always built); the libvirt connection and the migration driver
//! arrive with the `real` cargo feature.
//!
//! Invariants: no UI code here; nothing here blocks a UI thread (libvirt calls run on worker
//! threads); every connection URI is made non-interactive (see [`uri`]).

#![warn(missing_docs)]

pub mod prober;
pub mod uri;
