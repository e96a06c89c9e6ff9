from vpnconsole.ids import id_pattern


class AccessIdConverter:
    regex = id_pattern("va")

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
