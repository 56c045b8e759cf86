//! The labs a student migrates in and what their runs leave: the simulated lab ([`lab`]), real
//! hosts through libvirt ([`real`]), and a run's trace as plottable series ([`series`]). No egui
//! here: the GUI draws these, the exports write them.

pub mod lab;
pub mod real;
pub mod series;
