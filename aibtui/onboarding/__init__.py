"""The onboarding's non-UI logic, shared by the TUI wizard and `aibtui init`.

``answers.Answers`` holds what the user chose; ``yamltext.render_yaml`` turns it into a commented
``*.aib.yaml``; ``recipes`` are the step templates offered; ``resource_ids`` checks Azure resource
ids' form and writes the ``az`` commands that create the identity AIB needs. No Textual here.
"""
