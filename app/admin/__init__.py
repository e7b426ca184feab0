"""The researcher side: admin login, study wizard, readers, model, dashboard."""
