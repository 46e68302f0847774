"""practicebank's library: store access, the format table, loaders, validation and the CLI.

The CLI (``practicebank.loaders.cli``) is a thin shell over these modules; the endpoint
(``practicebank.endpoint``) uses the same store API.
"""

__version__ = "0.1.0"
