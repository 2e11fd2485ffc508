from ondigital_connect.sources import shopify as shopify  # noqa: F401  (runs @register)
