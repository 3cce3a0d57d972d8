"""Live mode (`sdbridge serve`): the gap comment arrives while the engineer is still on the
ticket. Deliveries from Jira and GitLab webhooks are checked (`deliveries`), collapsed per
ticket and evaluated by the same mapping, rules and push-back as the nightly run
(`service`), behind a small Starlette app (`app`); `register` sets the webhooks up.

The nightly run stays the full reconciliation and the only judge of process requirements:
live mode judges one ticket's items and writes that ticket's comment and label.
"""
