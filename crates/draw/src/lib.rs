//! A page to draw a digit on, answered live by Part 3's trained CNN
//! ([`serve`]), and how long its answers take ([`bench`]).

pub mod bench;
pub mod serve;
