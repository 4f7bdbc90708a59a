"""The encrypted store: records, series and files, sealed with each space's key.

Private to the platform: only :mod:`selfdata.access` imports this package (an
import-linter contract checks it), so every read and write goes through the single
authorisation point. Functions here take an open connection and the space's keys and
trust their caller to have decided and audited the access.
"""
