"""Vietnamese names, places, health facilities and employers from which synthetic citizens are drawn."""

from __future__ import annotations

from shared.credentials import Sex

PROVINCE_WEIGHTS = {
    "001": 80, "002": 9, "004": 5, "006": 3, "008": 8, "010": 7, "011": 6, "012": 5, "014": 12, "015": 8,
    "017": 9, "019": 13, "020": 8, "022": 13, "024": 18, "025": 15, "026": 12, "027": 14, "030": 19,
    "031": 20, "033": 13, "034": 19, "035": 9, "036": 18, "037": 10, "038": 36, "040": 33, "042": 13,
    "044": 9, "045": 6, "046": 11, "048": 11, "049": 15, "051": 12, "052": 15, "054": 9, "056": 12,
    "058": 6, "060": 12, "062": 5, "064": 15, "066": 19, "067": 6, "068": 13, "070": 10, "072": 12,
    "074": 26, "075": 31, "077": 11, "079": 90, "080": 17, "082": 18, "083": 13, "084": 10, "086": 10,
    "087": 16, "089": 19, "091": 17, "092": 12, "093": 7, "094": 12, "095": 9, "096": 12,
}  # fmt: skip
"""Rough population of each province in hundreds of thousands (2019 census)."""
FAMILY_NAMES = {
    "Nguyễn": 380, "Trần": 110, "Lê": 95, "Phạm": 70, "Hoàng": 51, "Phan": 45, "Vũ": 39, "Đặng": 21,
    "Bùi": 20, "Đỗ": 14, "Hồ": 13, "Ngô": 13, "Dương": 10, "Lý": 5, "Đinh": 6, "Trương": 6, "Lâm": 4,
    "Mai": 4, "Cao": 3, "Trịnh": 4, "Đoàn": 4, "Lương": 3, "Tạ": 2, "Hà": 3, "Tô": 2, "Vương": 2,
}  # fmt: skip
"""Family names and their rough share per thousand people."""
SOUTHERN_VARIANT = {"Hoàng": "Huỳnh", "Vũ": "Võ"}
MIDDLE: dict[tuple[Sex, bool], tuple[str, ...]] = {
    ("male", False): (
        "Văn", "Văn", "Văn", "Văn", "Đức", "Đức", "Minh", "Quang", "Hữu", "Hữu", "Công", "Xuân", "Thành",
        "Ngọc", "Trọng", "Đình", "Bá",
    ),
    ("male", True): (
        "Minh", "Minh", "Đức", "Gia", "Gia", "Quang", "Hoàng", "Anh", "Tuấn", "Bảo", "Duy", "Đăng", "Nhật",
        "Văn", "Văn", "Quốc",
    ),
    ("female", False): (
        "Thị", "Thị", "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hồng", "Bích",
    ),
    ("female", True): (
        "Thị", "Thị", "Ngọc", "Ngọc", "Thu", "Thanh", "Minh", "Thùy", "Bảo", "Khánh", "Phương", "Gia",
        "Hoài",
    ),
}  # fmt: skip
"""Middle names by sex and by whether born since 1990 (fewer Văn and Thị)."""
SECOND_MIDDLE: dict[Sex, tuple[str, ...]] = {
    "male": ("Minh", "Quốc", "Đức", "Hoàng", "Anh", "Gia", "Thanh", "Bảo", "Hải", "Tuấn"),
    "female": ("Bích", "Thu", "Kim", "Hồng", "Thanh", "Ngọc", "Phương", "Thùy", "Mỹ", "Bảo", "Khánh"),
}  # fmt: skip
GIVEN: dict[Sex, tuple[str, ...]] = {
    "male": (
        "An", "Bảo", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khang", "Khoa", "Long",
        "Minh", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung", "Tuấn",
        "Việt", "Vinh", "Đông", "Hoàng", "Kiên", "Lâm", "Nghĩa", "Tâm", "Tùng", "Duy", "Khải", "Hậu", "Lộc",
        "Hưng", "Thịnh", "Trí", "Quang",
    ),
    "female": (
        "Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương",
        "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương",
        "Quyên", "Tâm", "Thảo", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Yến", "Xuân",
        "Nhi", "Lệ", "Nhàn",
    ),
}  # fmt: skip
CITY_WARDS = {
    "001": (
        "Hàng Bạc", "Tràng Tiền", "Kim Mã", "Dịch Vọng", "Láng Hạ", "Khương Trung", "Mai Dịch", "Yên Hòa",
        "Văn Quán", "Bồ Đề", "Phúc Đồng",
    ),
    "079": (
        "Bến Nghé", "Bến Thành", "Đa Kao", "Tân Định", "Thảo Điền", "An Phú", "Linh Trung", "Tân Phong",
        "Bình Trị Đông", "Tân Kiểng",
    ),
    "048": (
        "Hải Châu I", "Thạch Thang", "An Hải Bắc", "Hòa Khánh Bắc", "Mỹ An", "Khuê Trung", "Thanh Khê Đông",
    ),
    "031": ("Máy Chai", "Lạch Tray", "Đằng Giang", "Cát Bi", "Đông Khê", "Hạ Lý"),
    "092": ("An Hòa", "Xuân Khánh", "Cái Khế", "Hưng Lợi", "An Khánh", "Long Tuyền"),
}  # fmt: skip
COMMON_WARDS = (
    "Tân Phú", "An Bình", "Hòa Bình", "Quang Trung", "Trần Phú", "Đông Hưng", "Tân Thành", "Phú Lợi",
    "Vĩnh Hòa", "Long Thạnh", "Đông Sơn", "Nghĩa Đô", "Hưng Đạo", "Xuân Lộc", "Phú Hòa", "Tân Hiệp",
    "Bình Minh", "Thống Nhất", "Đồng Tâm", "Hồng Phong", "Yên Lạc", "Cẩm Phú",
)  # fmt: skip
STREETS = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Nguyễn Trãi",
    "Phan Chu Trinh", "Hùng Vương", "Điện Biên Phủ", "Lê Duẩn", "Võ Thị Sáu", "Nguyễn Thị Minh Khai",
    "Bà Triệu", "Hoàng Diệu", "Trần Phú",
)  # fmt: skip
SECTORS = (
    "Thương mại", "Thương mại Dịch vụ", "Xây dựng", "Dệt may", "Thực phẩm", "Điện tử", "Vận tải",
    "Phần mềm", "Cơ khí", "Thủy sản", "Du lịch", "Giày da", "Bao bì", "Nội thất", "Dược phẩm", "Công nghệ",
)  # fmt: skip
BRANDS = (
    "Phú Gia", "Minh Phát", "Thành Công", "Đại Việt", "Hưng Thịnh", "An Khang", "Sao Mai", "Tân Á",
    "Hoàng Long", "Sông Hồng", "Trường Sơn", "Nam Việt", "Kim Long", "Bình Minh", "Việt Hưng", "Phúc Lộc",
    "Tiến Đạt",
)  # fmt: skip
CITY_HOSPITALS = {
    "001": (
        "Bệnh viện Đa khoa Đống Đa", "Bệnh viện Thanh Nhàn", "Bệnh viện Đa khoa Xanh Pôn",
        "Bệnh viện Đa khoa Đức Giang",
    ),
    "079": (
        "Bệnh viện Nhân dân Gia Định", "Bệnh viện Nhân dân 115", "Bệnh viện An Bình",
        "Bệnh viện Nguyễn Tri Phương",
    ),
    "048": ("Bệnh viện Đa khoa Đà Nẵng", "Bệnh viện C Đà Nẵng", "Bệnh viện Hòa Vang"),
}  # fmt: skip
COMPANY_FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV")
SCHOOL_NAMES = ("Lê Quý Đôn", "Nguyễn Du", "Chu Văn An", "Trần Quốc Toản", "Kim Đồng", "Lý Tự Trọng")
