//! `wproc check`.
