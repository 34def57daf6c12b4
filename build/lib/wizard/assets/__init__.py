"""mailwizard's own data: the stylesheet, the step explanations, the errata page (read with
importlib.resources, see wizard/resources.py). A new chapter adds its explanation to explain/."""
