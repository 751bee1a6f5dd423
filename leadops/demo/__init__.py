"""The demo world behind `manage.py seed_demo`: a deterministic, realistic 18 months of B2B sales history.

catalog.py holds the reference data (territories, industries, titles, campaigns, reasons), roster.py the demo
people, journey.py the lifecycle of one lead, generator.py the world as rows (rows.py), timeline.py the time and
chance helpers, writer.py the bulk inserts and seed.py the services the command calls.
"""
