"""The Looker Studio connector service: a Flask app over the library's KPI layer.

Depends on ``ondigital_connect``; the library never imports this package.
"""
