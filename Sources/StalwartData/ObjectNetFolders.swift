/// ObjectNet image-folder names of the 113 ImageNet-mapped classes, in `objectnet` label order
/// (class `k` of `LabelSpace.named("objectnet")` is folder `objectNetFolders[k]`). Copied from the
/// `objectnet_folder` fields of `data/labelspaces/objectnet.json` (which come from imagenet-testbed's
/// `objectnet_metadata/folder_to_objectnet_label.json`); a test checks the two agree. Used when a
/// dataset has no `mappings/folder_to_objectnet_label.json`.
let objectNetFolders: [String] = [
    "alarm_clock", "backpack", "banana", "band_aid", "basket", "full_sized_towel", "beer_bottle", "bench",
    "bicycle", "binder_closed", "bottle_cap", "bread_loaf", "broom", "bucket", "butchers_knife",
    "can_opener", "candle", "cellphone", "chair", "clothes_hamper", "coffee_french_press",
    "combination_lock", "computer_mouse", "desk_lamp", "hand_towel_or_rag", "doormat", "dress_shoe_men",
    "drill", "drinking_cup", "drying_rack_for_dishes", "envelope", "fan", "frying_pan", "dress",
    "hair_dryer", "hammer", "helmet", "iron_for_clothes", "jeans", "keyboard", "ladle", "lampshade",
    "laptop_open", "lemon", "letter_opener", "lighter", "lipstick", "match", "measuring_cup", "microwave",
    "mixing_salad_bowl", "monitor", "mug", "nail_fastener", "necklace", "orange", "padlock", "paintbrush",
    "paper_towel", "pen", "pill_bottle", "pillow", "pitcher", "plastic_bag", "plate", "plunger",
    "pop_can", "portable_heater", "printer", "remote_control", "ruler", "running_shoe", "safety_pin",
    "salt_shaker", "sandal", "screw", "shovel", "skirt", "sleeping_bag", "soap_dispenser", "sock",
    "soup_bowl", "spatula", "speaker", "still_camera", "strainer", "stuffed_animal", "suit_jacket",
    "sunglasses", "sweater", "swimming_trunks", "t-shirt", "tv", "teapot", "tennis_racket", "tie",
    "toaster", "toilet_paper_roll", "trash_bin", "tray", "umbrella", "vacuum_cleaner", "vase", "wallet",
    "watch", "water_bottle", "weight_exercise", "weight_scale", "wheel", "whistle", "wine_bottle",
    "winter_glove", "wok",
]
