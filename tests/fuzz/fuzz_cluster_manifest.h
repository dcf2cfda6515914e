/* fuzz_cluster_manifest.h - the manifest both cluster fuzz targets load
 * (fuzz_cluster_stage.c, fuzz_cluster_state.c): their corpora under
 * tests/fuzz/corpus/ were made with it (pkictl cluster init, then ca stage,
 * rotate and prune). Included by one source of each target. */
#ifndef PKICTL_FUZZ_CLUSTER_MANIFEST_H
#define PKICTL_FUZZ_CLUSTER_MANIFEST_H

static const char manifest_text[] =
    "{\"version\": 1,\n"
    " \"cas\": [{\"name\": \"root\", \"cert\": \"root.crt\", \"key\": \"root.key\",\n"
    "          \"subject\": \"/O=t/CN=root CA\"},\n"
    "         {\"name\": \"inter\", \"cert\": \"inter/ca.crt\", \"key\": \"inter/ca.key\",\n"
    "          \"subject\": \"/O=t/CN=inter CA\", \"parent\": \"root\"},\n"
    "         {\"name\": \"edge\", \"cert\": \"edge.crt\", \"key\": \"edge.key\", "
    "\"subject\": \"/CN=edge CA\"}],\n"
    " \"leaves\": [{\"name\": \"web\", \"ca\": \"inter\", \"cert\": \"inter/web.crt\", "
    "\"key\": \"inter/web.key\",\n"
    "             \"subject\": \"/O=t/CN=web\", \"sans\": [\"dns:web.local\"], "
    "\"usage\": \"server\"},\n"
    "            {\"name\": \"direct\", \"ca\": \"edge\", \"cert\": \"direct.crt\", "
    "\"key\": \"direct.key\",\n"
    "             \"subject\": \"/CN=direct\", \"usage\": \"both\"}],\n"
    " \"keys\": [{\"name\": \"service\", \"key\": \"service.key\"}]}\n";

#endif
