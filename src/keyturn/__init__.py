"""keyturn: sign-in, sessions and customer data for commerce apps."""

__version__ = "0.1.0"
