//! The class: many students' progress brought together on the instructor's PC, from exported
//! files (`migralab progress import`) and from a class folder the lab PCs share.

pub mod files;
pub mod folder;
pub mod gather;
pub mod merge;
pub mod report;
pub mod store;
pub mod view;
