//! Airlock's fuzz targets: the properties are in [`props`] (see `fuzz/README.md`).

pub mod props;
