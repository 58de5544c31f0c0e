"""Writes a copy of the served OpenAPI document whose problem ids and component types are pinned to
real ones (a few problems of the bank, every catalog type), so that generated requests reach the
validation and simulation code instead of stopping at 404 unknown_problem. Used by scripts/api-fuzz.

usage: pin.py BASE_URL OUT_FILE
"""

import json
import sys
import urllib.request


def get(base, path):
    with urllib.request.urlopen(base + path) as response:
        return json.load(response)


def main():
    base, out = sys.argv[1], sys.argv[2]
    doc = get(base, "/api/openapi.json")
    problems = get(base, "/api/problems?per_page=100")["items"]
    # Problems with the most to check: reference solutions and many tiers first, a few of each category.
    problems.sort(key=lambda p: (-p["offers"]["reference"], -p["tier_count"], p["id"]))
    seen, ids = set(), []
    for p in problems:
        if p["category"] not in seen:
            seen.add(p["category"])
            ids.append(p["id"])
        if len(ids) == 8:
            break
    types = [c["type"] for c in get(base, "/api/components")["components"]]

    schemas = doc["components"]["schemas"]
    for name in ("CreateRoom", "ValidateRequest", "SimulateRequest"):
        schemas[name]["properties"]["problem"] = {"type": "string", "enum": ids}
    schemas["DesignNode"]["properties"]["type"] = {"type": "string", "enum": types}
    for path in ("/api/problems/{id}", "/api/problems/{id}/solution"):
        for param in doc["paths"][path]["get"]["parameters"]:
            if param["name"] == "id":
                param["schema"] = {"type": "string", "enum": ids}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"pinned {len(ids)} problems ({', '.join(ids)}) and {len(types)} component types")


main()
