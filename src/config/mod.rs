//! edgegate.yaml and promptpack types, loading with source positions, validation.
