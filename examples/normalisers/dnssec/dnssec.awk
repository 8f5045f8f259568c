# Reads drill -D answers; prints the zone's DNSKEYs and DNSSEC findings about
# the input hostname. observed: the scan time as YYYYMMDDHHMMSS (may be "");
# input: the input object's primary key.

function json(s) {
        gsub(/\\/, "\\\\", s)
        gsub(/"/, "\\\"", s)
        return "\"" s "\""
}

function hostname(name) {
        sub(/\.$/, "", name)
        return tolower(name)
}

function finding(type, description) {
        print "{\"object_type\":\"KATFindingType\",\"id\":" json(type) "}"
        print "{\"object_type\":\"Finding\",\"finding_type\":" json("KATFindingType|" type) \
              ",\"ooi\":" json(input) ",\"description\":" json(description) "}"
}

/^;; ANSWER SECTION:/ { answer = 1; next }
/^;;/ || /^$/ { answer = 0; next }

answer && $4 == "DNSKEY" {
        zone = hostname($1)
        tag = ""
        if (match($0, /id = [0-9]+/))
                tag = substr($0, RSTART + 5, RLENGTH - 5)
        role = $5 == 257 ? "ksk" : "zsk"
        if (!(zone in zones)) {
                zones[zone] = 1
                print "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":" json(zone) "}"
        }
        print "{\"object_type\":\"DNSKEYRecord\",\"zone\":" json("Hostname|internet|" zone) \
              ",\"key_tag\":" tag ",\"flags\":" $5 ",\"algorithm\":" $7 ",\"role\":\"" role "\"}"
        keys++
}

answer && $4 == "RRSIG" {
        signatures++
        if (observed != "" && $9 < observed)
                expired = expired (expired == "" ? "" : ", ") $5 " (expired " $9 ")"
        if (observed != "" && $10 > observed)
                early = early (early == "" ? "" : ", ") $5 " (valid from " $10 ")"
}

END {
        if (!signatures)
                finding("KAT-NO-DNSSEC", "No RRSIG in the answers: the zone is not signed.")
        else if (!keys)
                finding("KAT-DNSSEC-NO-DNSKEY", "Answers are signed but the zone has no DNSKEY.")
        if (expired != "")
                finding("KAT-DNSSEC-SIGNATURE-EXPIRED", "Expired signatures at scan time: " expired)
        if (early != "")
                finding("KAT-DNSSEC-SIGNATURE-NOT-YET-VALID", "Signatures not yet valid at scan time: " early)
}
