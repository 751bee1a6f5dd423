"""Pages of the scoring app: versions and their editor, approvals, the diff, borderline reviews.

Thin, as everywhere (STYLE.md): forms check the input, the governance and review services act, selectors read.
What is here besides is presentation: rules in words, the histogram's geometry, labels.

versions   the version list, a version's page, new drafts, the compare page (diff)
editor     weights and thresholds, rule forms with their inline checks, trying a version on one lead
approvals  submit, approve, reject, roll back, and the managers' approval inbox
preview    the impact preview: its partial, the summary, the histogram's geometry
reviews    the managers' borderline queue and its decisions
common     permissions and helpers every page module shares
"""
