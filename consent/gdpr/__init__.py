"""GDPR rights over the personal-data registry: access (export), erasure, requests, retention."""
