"""Data access: written-out, parameterised SQL, one module per aggregate."""
