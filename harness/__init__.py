"""Socket syscall tracing and comparison across languages (see README.md).

Importing the package is cheap: every stage imports its dependencies when it is used.
"""

__version__ = "0.1.0"

# the sample every other is compared with, unless --reference says otherwise
DEFAULT_REFERENCE = "python-stdlib"
