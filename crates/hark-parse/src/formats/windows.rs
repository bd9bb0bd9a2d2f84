//! Not written yet.

use crate::{Body, Failure, Format, Out};

/// Not written yet: claims nothing.
pub struct Windows;

impl Format for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }

    fn claims(&self, _body: &Body<'_>) -> bool {
        false
    }

    fn parse(&self, _body: &Body<'_>, _out: &mut Out<'_>) -> Result<(), Failure> {
        Err(Failure::new(0, "not written yet"))
    }
}
