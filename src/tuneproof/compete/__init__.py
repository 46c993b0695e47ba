"""`tuneproof compete`: a self-hosted competition with hidden labels (docs/compete.md).

``scoring`` holds the pure rules, ``store`` the database, ``service`` the operations every face
calls, ``http`` the API and page, ``client`` the participant's side, ``split`` the data.
"""
