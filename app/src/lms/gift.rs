//! GIFT (to come).

use super::convert::Imported;
use migralab_course::quiz::Bank;

/// The bank as GIFT.
pub fn export(_bank: &Bank) -> (String, Vec<String>) {
    (String::new(), vec!["GIFT export is not written yet".into()])
}

/// GIFT into questions.
pub fn import(_text: &str, origin: &str) -> anyhow::Result<Imported> {
    anyhow::bail!("{origin}: GIFT import is not written yet")
}
