"""Shared data handling for dataset plugins: pixel conversion, deterministic and
patient-level splits, duplicate detection across splits, layout detection and the
inspection report. Plugins call these so that every layout is preprocessed, split and
checked for leakage the same way."""
