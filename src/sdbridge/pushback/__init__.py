"""Push-back: the gaps of a stored run, as one living comment per ticket, a label and an
optional summary issue, on the tracker the source reads.

- `plan`: what to do per ticket (pure), and carrying a plan out through a writer;
- `render`: the words of the comments and of the summary;
- `writers`: the Jira and GitLab writers, on the connectors' shared clients;
- `push`: one source's push of a stored run (`push_source_safely`).

Which writer serves a source, and which stored items are its tickets, the registry says.
How sdbridge's own comments are recognised is `sdbridge.marker`, below both push-back and
the connectors. Nothing is imported here: importing a part loads that part only.
"""
