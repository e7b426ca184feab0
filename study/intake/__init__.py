"""Real data in: find DICOM by content, index an export, match volumes to roles, validate every file.

Plain Python (pydicom, no Qt).  Modules: ``validate`` (decode what a reader
will see), ``index`` (header-only index of an export), ``rules`` (role
matching), ``progress`` (CLI progress lines with ETA).
"""
