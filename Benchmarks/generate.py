"""Writes a blueprint directory of N tenant tables: 8 columns, 3 indexes (the generated tenancy
index plus two), a foreign key, 4 generated tenant policies and a trigger each; every tenth
table also has a view over it and a function reading it. One trigger function serves every
table. Usage: generate.py N DIR"""
import os, sys

count, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "routines.yaml"), "w") as handle:
    handle.write("\n".join([
        "version: 1",
        "tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b",
        "functions:",
        "  - name: touch_row",
        "    returns: trigger",
        "    language: plpgsql",
        "    search_path: \"\"",
        "    body: |",
        "      begin",
        "        new.status := coalesce(new.status, 'new');",
        "        return new;",
        "      end",
    ]) + "\n")
for i in range(count):
    name = f"t{i:05d}"
    parent = f"t{i - 1:05d}" if i > 0 else None
    lines = [
        "version: 1",
        "tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b",
        "tables:",
        f"  - name: {name}",
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
    lines += [
        "triggers:",
        f"  - {{name: {name}_touch, table: {name}, timing: before, events: [insert, {{update: [status]}}], function: touch_row}}",
    ]
    if i % 10 == 0:
        lines += [
            "views:",
            f"  - name: {name}_open",
            f"    query: select id, tenant_id, name, amount from {name} where status <> 'done'",
            "functions:",
            f"  - name: {name}_total",
            "    arguments: [{name: p_tenant, type: uuid}]",
            "    returns: numeric",
            "    language: sql",
            "    volatility: stable",
            "    search_path: \"\"",
            f"    body: select coalesce(sum(amount), 0) from public.{name} where tenant_id = p_tenant",
        ]
    with open(os.path.join(out, f"{name}.yaml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
