//! The labs a student migrates in and what their runs leave: the simulated lab ([`lab`]), real
//! hosts through libvirt ([`real`]), the migrate form both share ([`migrate_form`]), and a run's
//! trace as plottable series ([`series`]). No egui here: the GUI draws these, the exports write
//! them.

pub mod lab;
pub mod migrate_form;
pub mod real;
pub mod series;
pub mod whatif;
