"""Forms of the scoring pages: they check what a person typed and turn it into the data the services take.

The pure engine's own checks (scoring.rules.validate_*) run in clean(), so a page can put a problem on the field it
belongs to while the person is still typing; the services run the same checks again before anything is stored.

version_settings  weights and thresholds
rule_forms        one form per kind of rule, and RULE_FORMS to find them by kind
decisions         submitting a version, approving or rejecting it, deciding a borderline lead
try_lead          which lead to try a version on
summaries         a rule in words, for the pages and the API
common            what those share: operator labels, plain_number, service errors shown on their field
"""
