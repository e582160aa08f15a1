# The client code of a tutorial lesson on the Bitcoin P2P network ("Getting
# To Know Each Other": get_bitnodes_api_response, get_nodes,
# nodes_to_address_tuples), copied unchanged. The end-to-end test replaces
# the host in BITNODES_URL with nodesweep's API and runs it with Debian's
# python3-requests; the last line prints what it returns, as JSON.
import json

import requests


def get_bitnodes_api_response():
    BITNODES_URL = "https://bitnodes.earn.com/api/v1/snapshots/latest/"
    return requests.get(BITNODES_URL).json()


def get_nodes():
    data = get_bitnodes_api_response()
    return data['nodes']


def nodes_to_address_tuples(nodes):
    address_strings = nodes.keys()
    address_tuples = []
    for address_string in address_strings:
        ip, port = address_string.rsplit(":", 1)
        address_tuple = (ip, int(port))
        address_tuples.append(address_tuple)
    return address_tuples


print(json.dumps(nodes_to_address_tuples(get_nodes())))
