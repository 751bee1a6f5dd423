"""CSV import of leads from Salesforce and HubSpot exports."""
