"""Stand-ins for the CRM APIs (a local HTTP server per CRM), the records they serve, and the
export files the CRMs write: shared by the integration tests."""
