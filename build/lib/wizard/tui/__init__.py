"""The Textual face of mailwizard: shows what the engine emits, adds no logic of its own."""
