/// A privilege as blueprints and the catalog hold it: its lowercase name (`select`), or the name
/// followed by ` with grant option` when the role may also grant it to others
/// (docs/blueprints.md, Grants). A role holds a privilege at most once, one way or the other.
public enum Privilege {
    static let grantOption = " with grant option"

    /// The privilege without its grant option.
    public static func base(_ privilege: String) -> String {
        privilege.hasSuffix(grantOption) ? String(privilege.dropLast(grantOption.count)) : privilege
    }

    public static func isGrantable(_ privilege: String) -> Bool {
        privilege.hasSuffix(grantOption)
    }

    public static func grantable(_ privilege: String) -> String {
        base(privilege) + grantOption
    }

    /// Whether `privileges` include `privilege`, with or without the grant option.
    public static func holds(_ privileges: Set<String>?, _ privilege: String) -> Bool {
        guard let privileges else { return false }
        return privileges.contains(privilege) || privileges.contains(grantable(privilege))
    }

    /// Each privilege held, and whether with its grant option (the grant option wins when both
    /// forms are listed).
    static func levels(_ privileges: Set<String>) -> [String: Bool] {
        var levels: [String: Bool] = [:]
        for privilege in privileges { levels[base(privilege), default: false] = levels[base(privilege)] == true || isGrantable(privilege) }
        return levels
    }

    /// The privileges a grant needs: the grantable ones and the plain ones go in separate
    /// statements, as `WITH GRANT OPTION` covers a whole statement.
    static func split(_ privileges: Set<String>) -> (plain: Set<String>, grantable: Set<String>) {
        (privileges.filter { !isGrantable($0) }, privileges.filter(isGrantable))
    }
}
