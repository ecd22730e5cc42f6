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

    /// Whether every one of `privileges` is named with its grant option (and there is one): a
    /// `GRANT ... WITH GRANT OPTION`, or a `REVOKE GRANT OPTION FOR` that leaves the privileges.
    static func onlyGrantOptions(_ privileges: Set<String>) -> Bool {
        !privileges.isEmpty && privileges.allSatisfy(isGrantable)
    }

    /// The SQL that appends `grantOption` to a privilege of `aclexplode(...) x`, for the kinds'
    /// introspection.
    static let grantOptionSQL = "CASE WHEN x.is_grantable THEN '\(grantOption)' ELSE '' END"
}
