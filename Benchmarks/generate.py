"""Writes a blueprint directory of N tenant tables: 8 columns, 3 indexes (the generated tenancy
index plus two), a foreign key, 4 generated tenant policies each. Usage: generate.py N DIR"""
import os, sys

count, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
for i in range(count):
    parent = f"t{i - 1:04d}" if i > 0 else None
    lines = [
        "version: 1",
        "tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b",
        "tables:",
        f"  - name: t{i:04d}",
        "    columns:",
        "      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}",
        "      - {name: tenant_id, type: uuid, nullable: false}",
        "      - {name: name, type: varchar(120), nullable: false}",
        "      - {name: amount, type: 'numeric(12,2)', nullable: false, default: '0', check: amount >= 0}",
        "      - {name: status, type: text, nullable: false, default: \"'new'\"}",
        "      - {name: payload, type: jsonb, nullable: false, default: \"'{}'::jsonb\"}",
        "      - {name: created_at, type: timestamptz, nullable: false, default: now()}",
        "      - {name: parent_id, type: uuid}",
        "    indexes:",
        "      - {columns: [tenant_id, created_at]}",
        "      - {columns: [status], where: \"status <> 'done'\"}",
    ]
    if parent:
        lines += ["    foreign_keys:", f"      - {{columns: [parent_id], references: {{table: {parent}, columns: [id]}}, on_delete: set_null}}"]
    with open(os.path.join(out, f"t{i:04d}.yaml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
