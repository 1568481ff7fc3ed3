"""The bundled Django project behind `phonepe serve`."""
