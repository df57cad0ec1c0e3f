"""occ — the Operator Control Center for a Shopify store."""

__version__ = "0.1.0"
__all__ = ["__version__"]
